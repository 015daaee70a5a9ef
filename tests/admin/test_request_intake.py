"""What the site takes from a request before any view sees it (ninerstatus/intake.py), on both databases.

NUL bytes answer 404 in addresses and are dropped from query strings and
forms (PostgreSQL refuses them, SQLite would keep them); a form body that is
not UTF-8 keeps everything typed; a body over the size limit is refused
whether it comes with a length or chunked.
"""
from __future__ import annotations

import re
from io import BytesIO
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from ninerstatus.extensions import db
from ninerstatus.intake import CONTROL_NOTE, UNDECODABLE_NOTE
from ninerstatus.models import Post, Server, Tag

from ..factories import make_post, make_server
from .accounts import ADMIN_EMAIL, PASSWORD, csrf_token_in

LIMIT = 2 * 1024 * 1024


@pytest.fixture
def site(app):
    """A server and a post tagged mail, so every address below names something that exists but for its NUL."""
    with app.app_context():
        make_post("Mail delays", tags=("mail",), servers=(make_server("NC036"),))
    return app


def notes_on(response) -> list[str]:
    """The messages a page gives its reader (flashed notes)."""
    return [re.sub(r"\s+", " ", text).strip()
            for text in re.findall(r'<p class="notice" role="status">(.*?)</p>', response.get_data(as_text=True), re.S)]


@pytest.mark.parametrize("path", ["/tags/mail%00", "/tags/a%00b/feed.atom", "/servers/NC036%00",
                                  "/servers/NC%0036/feed.rss", "/posts/mail-delays%00", "/api/servers/NC036%00",
                                  "/archive/%00", "/static/css/site.css%00", "/tags/mail%01", "/admin/posts/%00"])
def test_an_address_with_a_nul_or_control_character_finds_no_page(site, client, path):
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.get_json()["error"]["code"] == 404
    else:
        assert "Page not found" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/search?q=mail%00", "/?page=1%00", "/api/servers?x=%00",
                                  "/api/v2/summary.json?%00=1", "/tags/mail/feed.atom?x=a%00b",
                                  "/servers/NC036?page=%001"])
def test_a_nul_in_a_query_string_is_dropped_before_anything_reads_it(site, client, path):
    assert client.get(path).status_code == 200


def test_a_nul_in_the_sign_in_email_is_dropped_and_the_staff_member_told(site, client, staff):
    def sign_in(password: str):
        token = csrf_token_in(client.get("/admin/login").get_data(as_text=True))
        return client.post("/admin/login", data={"email": ADMIN_EMAIL.replace("@", "\x00@"), "password": password,
                                                 "csrf_token": token}, follow_redirects=True)

    refused = sign_in("not the password")
    assert CONTROL_NOTE in notes_on(refused)
    assert f'value="{ADMIN_EMAIL}"' in refused.get_data(as_text=True)   # the address as it was kept
    assert sign_in(PASSWORD).request.path == "/admin/dashboard"


def test_staff_form_fields_lose_control_characters_keep_the_rest_and_say_so(site, auth):
    auth.login()
    response = auth.post("/admin/posts/new", {"title": "Disk\x00 full", "body": "<p>Vol\x00ume \x07two\tis full</p>",
                                               "kind": "incident", "tags": "st\x00orage, mail", "action": "draft"},
                         follow_redirects=True)
    assert CONTROL_NOTE in notes_on(response)
    server = auth.post("/admin/servers/new", {"code": "NC\x00099", "role": "File\x1b server", "city": "Oslo",
                                              "country": "", "visibility": "public", "display_order": "5",
                                              "notes": "line one\r\nline\x00 two"}, follow_redirects=True)
    assert CONTROL_NOTE in notes_on(server)
    with site.app_context():
        post = db.session.scalar(select(Post).where(Post.title == "Disk full"))
        assert post.body_html == "<p>Volume two\tis full</p>"
        assert sorted(tag.name for tag in post.tags) == ["mail", "storage"]
        added = db.session.scalar(select(Server).where(Server.code == "NC099"))
        assert (added.role, added.notes) == ("File server", "line one\r\nline two")


def test_a_form_that_is_not_utf8_keeps_everything_typed_and_says_where_it_could_not_be_read(site, auth):
    auth.login()
    fields = {"csrf_token": auth.token(), "title": "Caf\xe9 closed", "body": "<p>Still typed</p>", "kind": "notice",
              "tags": "caf\xe9, mail", "action": "draft"}
    # Latin-1, as a client that ignores the page's charset would send it.
    body = "&".join(f"{name}={quote(value, encoding='latin-1')}" for name, value in fields.items())
    response = auth.client.post("/admin/posts/new", data=body, content_type="application/x-www-form-urlencoded",
                                follow_redirects=True)
    assert response.status_code == 200 and UNDECODABLE_NOTE in notes_on(response)
    with site.app_context():
        post = db.session.scalar(select(Post).where(Post.title == "Caf\N{REPLACEMENT CHARACTER} closed"))
        assert post.body_text == "Still typed"
        assert sorted(tag.name for tag in post.tags) == ["caf\N{REPLACEMENT CHARACTER}", "mail"]


def post_form(auth, fields: dict[str, str], *, chunked: bool):
    """POST ``fields`` URL-encoded to the new-post form, chunked or with a Content-Length.

    Chunked, it reaches the app as from granian: no length, a Transfer-Encoding header, and the
    server's word that it ends the body itself (tests/test_serve_intake.py sends one for real).
    """
    body = "&".join(f"{name}={quote(value)}" for name, value in {"csrf_token": auth.token(), **fields}.items())
    sent = {"input_stream": BytesIO(body.encode()), "headers": {"Transfer-Encoding": "chunked"},
            "environ_overrides": {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""}} \
        if chunked else {"data": body.encode()}
    return auth.client.post("/admin/posts/new", content_type="application/x-www-form-urlencoded", **sent)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "with a length"])
def test_a_body_over_the_limit_is_refused_however_it_is_sent(site, auth, chunked):
    auth.login()
    response = post_form(auth, {"title": "Too long", "kind": "notice", "action": "draft",
                                "body": "<p>" + "x" * LIMIT + "</p>"}, chunked=chunked)
    assert response.status_code == 413
    assert "That upload is too large" in response.get_data(as_text=True)
    with site.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post).where(Post.title == "Too long")) == 0


def test_a_chunked_body_within_the_limit_is_read_whole(site, auth):
    auth.login()
    text = "x" * (LIMIT - 1000)   # the form's other fields fit in the rest
    response = post_form(auth, {"title": "Long but whole", "kind": "notice", "action": "draft",
                                "body": f"<p>{text}</p>"}, chunked=True)
    assert response.status_code == 302
    with site.app_context():
        post = db.session.scalar(select(Post).where(Post.title == "Long but whole"))
        assert post.body_text == text
        assert db.session.scalar(select(func.count()).select_from(Tag)) == 1   # only the site's "mail"
