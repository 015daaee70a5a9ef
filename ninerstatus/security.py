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
- The site answers only at its own address (``OwnHosts``): feeds, the
  API and redirects put absolute links in their answers, and a shared cache
  that keys pages without the host would otherwise keep links to whatever
  host a client named. A request for another host gets 400.
"""
from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Flask, abort, g, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.sansio.utils import host_is_trusted
from werkzeug.wsgi import get_host

CSP_BASE = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    # The editor's toolbar icons are data: SVGs in its stylesheet; an image being added to a
    # post shows from a blob: address until it is uploaded.
    "img-src": "'self' data: blob:",
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


#: Set in the WSGI environ of a request that named a host the site does not answer to.
FORGED_HOST_KEY = "ninerstatus.forged_host"
#: How many host names the answer of ``names_this_machine`` is kept for.
_MACHINE_NAMES_KEPT = 256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OwnHosts:
    """The hosts the site answers to: ``names`` (as ``TRUSTED_HOSTS`` writes them), and with
    ``this_machine`` also every name and address of the machine it runs on."""

    names: tuple[str, ...]
    this_machine: bool

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> OwnHosts:
        """``TRUSTED_HOSTS`` when set; else ``SERVER_NAME``'s host (when set) and this machine."""
        configured = config.get("TRUSTED_HOSTS")
        if configured:
            return cls((configured,) if isinstance(configured, str) else tuple(configured), this_machine=False)
        server_name = config.get("SERVER_NAME")
        return cls((_host_part(server_name),) if server_name else (), this_machine=True)

    def trust(self, host: str) -> bool:
        """True when ``host`` (``name[:port]``, as a Host header gives it) is one of these."""
        if self.names and host_is_trusted(host, self.names):
            return True
        return self.this_machine and names_this_machine(host)


def _host_part(host_and_port: str) -> str:
    """``status.example.net`` of ``status.example.net:8443``, ``[::1]`` of ``[::1]:8000``."""
    if host_and_port.startswith("["):
        return host_and_port[:host_and_port.find("]") + 1].lower()
    return host_and_port.partition(":")[0].lower()


def names_this_machine(host: str) -> bool:
    """True for ``localhost``, this machine's host name, and any IP address this machine has
    (``host`` as a Host header gives it, with or without a port)."""
    return host_is_trusted(host, None) and _is_this_machine(_host_part(host))  # None: only check its form


@lru_cache(maxsize=_MACHINE_NAMES_KEPT)
def _is_this_machine(name: str) -> bool:
    # An address is this machine's when a socket can be bound to it: no DNS lookup, no list
    # of interfaces to keep up to date. Links naming any of these lead only to this same site.
    if name in ("localhost", socket.gethostname().lower()):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def init_trusted_hosts(app: Flask) -> None:
    """Refuse requests for any host but the site's own, before the page cache (which keys on the host)."""
    hosts = OwnHosts.of(app.config)
    own = app.config.get("SERVER_NAME") or (hosts.names[0].lstrip(".") if hosts.names else "127.0.0.1")
    app.wsgi_app = OwnHostOnly(app.wsgi_app, hosts, own)
    app.before_request(refuse_forged_host)


class OwnHostOnly:
    """WSGI middleware: a request naming a host the site does not answer to goes on as a request for
    ``own``, marked forged.

    So the 400 page (see ``refuse_forged_host``) is drawn like any other,
    and nothing drawn for it can name the forged host.
    """

    def __init__(self, wsgi_app, hosts: OwnHosts, own: str) -> None:
        self.wsgi_app = wsgi_app
        self.hosts = hosts
        self.own = own
        self._warned = False

    def __call__(self, environ, start_response):
        host = get_host(environ)
        if not self.hosts.trust(host):
            if not self._warned:  # once per process: enough to tell an operator, too little to flood a log
                self._warned = True
                log.warning("refused a request for host %r: the site answers only to its own address; "
                            "set SERVER_NAME or TRUSTED_HOSTS if visitors use that name", host[:100])
            environ = {**environ, "HTTP_HOST": self.own, FORGED_HOST_KEY: True}
        return self.wsgi_app(environ, start_response)


def refuse_forged_host() -> None:
    """Before every request: answer 400 to one that named a host the site does not answer to."""
    if request.environ.get(FORGED_HOST_KEY):
        abort(400, description="This site does not answer to the address in your request. "
                               "Use its own address, as its links show.")


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
    # A view that serves no page (an image) may have set a stricter policy of its own.
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
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
