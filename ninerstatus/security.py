"""Protections on every response: security headers, a strict CSP, private staff pages, Secure cookies.

- The Content-Security-Policy allows scripts and styles only from the site
  itself: no inline script anywhere. A page may ask for a style nonce
  (``csp_nonce()`` in templates) for the one ``<style>`` element the post
  editor inserts; such pages are staff pages and never cached.
- Any page answered to a signed-in account, and every staff page, is
  ``private, no-store``: it may name the account and carries form tokens.
- Cookies get ``Secure`` whenever the request came over HTTPS, so one
  configuration serves both a plain-HTTP test setup and production.
- Behind a reverse proxy, ``TRUSTED_PROXY_HOPS`` (default 0) says how many
  proxies' ``X-Forwarded-For``/``-Proto`` headers to believe: the client
  address feeds the sign-in throttle and the scheme decides ``Secure``.
"""
from __future__ import annotations

import secrets

from flask import Flask, g, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

CSP_BASE = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # The editor's toolbar icons are data: SVGs in its stylesheet.
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_security(app: Flask) -> None:
    """Wrap ``app`` so every response carries the protections above."""
    app.config.setdefault("TRUSTED_PROXY_HOPS", 0)
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)
    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        # Outermost, so the scheme it restores is what the cookie wrapper sees.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.add_template_global(csp_nonce)
    app.after_request(add_security_headers)


def csp_nonce() -> str:
    """A per-response nonce that the Content-Security-Policy accepts for ``<style>`` elements."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy() -> str:
    """The policy for this response, with the style nonce when the page asked for one."""
    directives = dict(CSP_BASE)
    if "csp_nonce" in g:
        directives["style-src"] += f" 'nonce-{g.csp_nonce}'"
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def is_private_response() -> bool:
    """True for staff pages and for anything answered to a signed-in account."""
    return request.blueprint == "admin" or current_user.is_authenticated


def add_security_headers(response):
    """After every request: security headers, and no caching of anything private."""
    response.headers["Content-Security-Policy"] = content_security_policy()
    for name, value in STATIC_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        # Once a browser has seen the site over HTTPS, it never asks over plain HTTP again.
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if is_private_response():
        # Replaces whatever a public view decided, including an ETag a shared cache could key on.
        response.headers["Cache-Control"] = "private, no-store"
        response.headers.pop("ETag", None)
        response.headers.pop("Last-Modified", None)
        response.vary.add("Cookie")
    return response


class SecureCookiesOverHttps:
    """WSGI middleware: mark every cookie ``Secure`` when the request came over HTTPS.

    Working on the raw headers catches the session cookie (written after all
    ``after_request`` functions) and Flask-Login's remember-me cookie alike.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def start_secure_response(status, headers, exc_info=None):
            headers = [(name, _with_secure(value) if name.lower() == "set-cookie" else value)
                       for name, value in headers]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_secure_response)


def _with_secure(cookie: str) -> str:
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else f"{cookie}; Secure"
