"""Feeds: RSS 2.0 and Atom that parse strictly whatever the posts contain."""
from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from .factories import make_post, make_server

ATOM = "{http://www.w3.org/2005/Atom}"
HOSTILE_TITLE = 'Outage ]]> <script>alert("x")</script> & more'
HOSTILE_BODY = '<p>Text with ]]&gt; and <strong>bold</strong> and a bell \x07 and nul \x00 and ☃</p>'


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def parse(response) -> ET.Element:
    """Parse a feed with expat, which rejects anything that is not well-formed XML."""
    assert response.status_code == 200
    return ET.fromstring(response.get_data())


def test_rss_feed_is_valid_rss_2_with_newest_posts_first(ctx, client):
    make_post("First", tags=("dns",))
    make_post("Second", age=__import__("datetime").timedelta(minutes=1))
    response = client.get("/feed.rss")
    assert response.mimetype == "application/rss+xml"
    root = parse(response)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    assert [i.findtext("title") for i in items] == ["Second", "First"]
    first = items[1]
    assert first.findtext("link") == "http://status.test/posts/first"
    assert first.findtext("guid") == first.findtext("link")
    assert first.findtext("category") == "dns"
    assert first.findtext("pubDate").endswith("+0000")


def test_atom_feed_is_valid_atom_with_ids_and_html_content(ctx, client):
    make_post("Only", "<p>Hello <em>there</em></p>")
    response = client.get("/feed.atom")
    assert response.mimetype == "application/atom+xml"
    root = parse(response)
    assert root.tag == f"{ATOM}feed"
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}id") == "http://status.test/posts/only"
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html" and content.text == "<p>Hello <em>there</em></p>"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://status.test/feed.atom"


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_feeds_parse_and_keep_text_whatever_the_post_contains(ctx, client, fmt):
    make_post(HOSTILE_TITLE, HOSTILE_BODY, tags=("<b>&</b>",))
    root = parse(client.get(f"/feed.{fmt}"))
    titles = [e.text for e in root.iter() if e.tag in ("title", f"{ATOM}title")]
    assert HOSTILE_TITLE in titles
    raw = client.get(f"/feed.{fmt}").get_data(as_text=True)
    assert "<script>" not in raw and "]]>" not in raw
    bodies = [e.text for e in root.iter() if e.tag in ("description", f"{ATOM}content")]
    assert any(b and "]]&gt; and <strong>bold</strong> and a bell  and nul  and ☃" in b for b in bodies)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_tag_and_server_feeds_hold_only_their_posts(ctx, client, fmt):
    mail = make_server("NC036")
    make_post("Mail post", tags=("email",), servers=(mail,))
    make_post("DNS post", tags=("dns",))
    for url, expected in ((f"/tags/email/feed.{fmt}", "Mail post"), (f"/tags/dns/feed.{fmt}", "DNS post"),
                          (f"/servers/NC036/feed.{fmt}", "Mail post")):
        root = parse(client.get(url))
        titles = [e.text for e in root.iter() if e.tag in ("title", f"{ATOM}title")]
        assert expected in titles
        assert {"Mail post", "DNS post"} - {expected} - set(titles), url
    assert client.get(f"/tags/none/feed.{fmt}").status_code == 404
    assert client.get(f"/servers/NC999/feed.{fmt}").status_code == 404


def test_empty_feeds_are_still_valid(ctx, client):
    assert parse(client.get("/feed.rss")).find("channel/title").text
    assert parse(client.get("/feed.atom")).find(f"{ATOM}updated").text
