"""Protections on every response: CSP without inline script, nosniff, no framing, private staff pages."""
from __future__ import annotations

import re

import pytest

from ..factories import make_post

PUBLIC_PATHS = ["/", "/tags/", "/archive/", "/search?q=mail", "/feed.rss", "/feed.atom", "/api/servers",
                "/no-such-page", "/static/css/site.css"]


def _csp(response) -> dict[str, str]:
    return {d.split()[0]: " ".join(d.split()[1:])
            for d in response.headers["Content-Security-Policy"].split(";") if d.strip()}


@pytest.mark.parametrize("path", PUBLIC_PATHS + ["/admin/login"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = _csp(response)
    assert csp["script-src"] == "'self'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'" and csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_no_page_has_inline_script_or_event_handler_attributes(app, auth, client):
    with app.app_context():
        make_post("A post")
    auth.login()
    for path in ["/", "/posts/a-post", "/admin/posts", "/admin/posts/new", "/admin/posts/1", "/admin/tags",
                 "/admin/servers", "/admin/password"]:
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"\son[a-z]+\s*=", page), path
        assert "javascript:" not in page, path


def test_the_editor_page_allows_only_its_own_style_nonce(auth, client):
    auth.login()
    response = client.get("/admin/posts/new")
    nonce = re.search(r'name="trix-csp-nonce" content="([^"]+)"', response.get_data(as_text=True)).group(1)
    assert _csp(response)["style-src"] == f"'self' 'nonce-{nonce}'"
    assert nonce != re.search(r"'nonce-([^']+)'", client.get("/admin/posts/new").headers["Content-Security-Policy"]).group(1)


def test_public_pages_stay_publicly_cacheable_for_visitors(app, client):
    with app.app_context():
        make_post("A post")
    response = client.get("/")
    assert response.headers["Cache-Control"].startswith("public")
    assert response.headers.get("ETag")
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize("path", ["/", "/posts/a-post", "/tags/", "/feed.rss", "/no-such-page"])
def test_pages_for_a_signed_in_account_are_never_stored(app, auth, client, path):
    with app.app_context():
        make_post("A post")
    auth.login()
    response = client.get(path)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers and "Last-Modified" not in response.headers
    assert "Cookie" in response.headers.get("Vary", "")


def test_a_signed_in_revalidation_never_gets_a_public_304(app, auth, client):
    with app.app_context():
        make_post("A post")
    etag = client.get("/").headers["ETag"]
    auth.login()
    response = client.get("/", headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "Signed in as" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/admin/login", "/admin/posts"])
def test_staff_pages_are_never_stored(client, path):
    assert client.get(path).headers["Cache-Control"] == "private, no-store"


def test_oversized_request_gets_a_clear_413(auth, client):
    auth.login()
    response = auth.post("/admin/posts/new", {"title": "big", "body": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_errors_never_show_a_traceback(app, auth, client, monkeypatch):
    from ninerstatus.admin import posts

    auth.login()

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(posts, "paginate", broken)
    app.testing = False  # as in production: exceptions become the 500 page
    response = client.get("/admin/posts")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "secret internals" not in page and "Traceback" not in page


def test_https_responses_tell_browsers_to_stay_on_https_and_plain_http_ones_do_not(client):
    assert client.get("/", base_url="https://status.test").headers["Strict-Transport-Security"] == \
        "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/").headers
