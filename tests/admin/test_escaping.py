"""Hostile text in titles, tags, server fields and names is shown escaped everywhere it appears."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, Server, Tag, User

from .accounts import ADMIN_EMAIL

PAYLOAD = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>"
# What must never appear raw in an HTML page.
RAW = ["<script>alert(1)</script>", "<img src=x onerror=alert(2)>"]
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def hostile(app, auth):
    """A post, tag, server and staff name all carrying PAYLOAD, made through the staff pages."""
    with app.app_context():
        db.session.scalar(select(User).where(User.email == ADMIN_EMAIL)).name = "Ann " + PAYLOAD
        db.session.commit()
    auth.login()
    auth.post("/admin/servers/new", {"code": "NC036", "role": "Mail " + PAYLOAD, "city": "City " + PAYLOAD,
                                     "country": "Land " + PAYLOAD, "visibility": "public", "display_order": "0",
                                     "notes": "Notes " + PAYLOAD})
    with app.app_context():
        server_id = db.session.scalar(select(Server.id))
    response = auth.post("/admin/posts/new", {
        "title": "Title " + PAYLOAD, "body": f"<p>Body</p>{PAYLOAD}", "kind": "incident",
        "tags": "tag " + PAYLOAD.replace(",", ""), "servers": str(server_id), "action": "publish"})
    assert response.status_code == 302
    with app.app_context():
        post = db.session.scalar(select(Post))
        tag = db.session.scalar(select(Tag))
        return {"post_id": post.id, "slug": post.slug, "tag_id": tag.id, "tag_slug": tag.slug,
                "server_id": server_id, "flash": auth.client.get(f"/admin/posts/{post.id}")}


def _assert_escaped(page: str, where: str) -> None:
    for raw in RAW:
        assert raw not in page, f"{where} shows {raw!r} unescaped"


def test_flash_message_naming_the_post_is_escaped(hostile):
    page = hostile["flash"].get_data(as_text=True)
    assert "Title &#34;&#39;&gt;" + ESCAPED in page or "Title &#34;&#39;&gt;&lt;script" in page
    _assert_escaped(page, "flash message")


def test_public_pages_show_the_payload_as_text(client, hostile, auth):
    auth.logout()
    pages = ["/", f"/posts/{hostile['slug']}", f"/tags/{hostile['tag_slug']}", "/tags/", "/servers/NC036",
             "/archive/", "/search?q=Title"]
    for url in pages:
        page = client.get(url).get_data(as_text=True)
        _assert_escaped(page, url)
        assert ESCAPED in page, url
    post_page = client.get(f"/posts/{hostile['slug']}").get_data(as_text=True)
    title = post_page[post_page.index("<title>"):post_page.index("</title>")]
    assert ESCAPED in title


def test_staff_pages_show_the_payload_as_text(client, hostile):
    pages = ["/admin/posts", f"/admin/posts/{hostile['post_id']}", f"/admin/posts/{hostile['post_id']}/revisions",
             "/admin/tags", f"/admin/tags/{hostile['tag_id']}", f"/admin/tags/{hostile['tag_id']}/delete",
             "/admin/servers", f"/admin/servers/{hostile['server_id']}", f"/admin/servers/{hostile['server_id']}/delete",
             f"/admin/posts/{hostile['post_id']}/updates", f"/admin/posts/{hostile['post_id']}/delete",
             "/admin/users", "/admin/users/1"]
    for url in pages:
        page = client.get(url).get_data(as_text=True)
        _assert_escaped(page, url)
    header = client.get("/").get_data(as_text=True)
    assert "Signed in as <a href=\"/admin/posts\">Ann &#34;&#39;&gt;" + ESCAPED in header


def test_feeds_carry_the_payload_as_text(client, hostile, auth):
    auth.logout()
    for url in ["/feed.rss", "/feed.atom", "/servers/NC036/feed.rss", f"/tags/{hostile['tag_slug']}/feed.atom"]:
        root = ET.fromstring(client.get(url).data)
        titles = [e.text for e in root.iter() if e.tag.endswith("title") and e.text and e.text.startswith("Title")]
        assert titles == ["Title " + PAYLOAD], url
        for element in root.iter():
            if element.tag.endswith(("description", "content")) and element.text:
                _assert_escaped(element.text, f"{url} {element.tag}")


def test_sidebar_server_fields_are_escaped(client, hostile):
    page = client.get("/").get_data(as_text=True)
    assert "City &#34;&#39;&gt;" + ESCAPED in page or "City &#34;&#39;&gt;&lt;script" in page
