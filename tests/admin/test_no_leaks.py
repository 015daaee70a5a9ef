"""Drafts and scheduled posts never leak to visitors, whatever public address they try.

The walk covers every public GET rule in ``app.url_map`` with every value its
arguments can take here, so a page, feed, API or sitemap added later is
covered without touching this test.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, PostStatus, PostUpdate, Server, Tag, UpdateState
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server

# Everything hidden carries this word; it must never reach a visitor.
MARKER = "hushhush"
SEARCHES = ["draft", "scheduled", "body", "update", "title", "shared", "a"]


def _hidden_posts(server: Server) -> None:
    now = utcnow()
    make_post(f"{MARKER} draft title", f"<p>{MARKER} draft body</p>", status=PostStatus.DRAFT,
              tags=("shared", "draftonly"), servers=(server,))
    make_post(f"{MARKER} scheduled title", f"<p>{MARKER} scheduled body</p>", status=PostStatus.SCHEDULED,
              published_at=now + timedelta(days=1), tags=("shared", "lateronly"), servers=(server,))
    # A draft that once had a date (unpublished by hand, or imported) is still a draft.
    old = make_post(f"{MARKER} old draft title", f"<p>{MARKER} old draft body</p>", status=PostStatus.DRAFT,
                    tags=("shared",), servers=(server,))
    old.published_at = now - timedelta(days=2)
    old.updates.append(PostUpdate(state=UpdateState.RESOLVED, body_html=f"<p>{MARKER} update</p>"))
    db.session.commit()


@pytest.fixture
def site(app):
    """One visible post and three hidden ones sharing its tag and server."""
    with app.app_context():
        server = make_server("NC036")
        make_post("Visible post", "<p>Visible body</p>", tags=("shared",), servers=(server,))
        _hidden_posts(server)
        now, later = utcnow(), utcnow() + timedelta(days=1)
        return {
            "slug": list(db.session.scalars(select(Post.slug))),
            "code": ["NC036"],
            "fmt": ["rss", "atom"],
            "year": sorted({now.year, later.year}),
            "month": sorted({now.month, later.month}),
            "day": sorted({now.day, later.day}),
            "path": ["shared", "shared/feed"],   # old WordPress tag and category addresses
            "name": ["0123456789abcdef0123456789abcdef.png"],   # an image in posts (none is stored)
            "token": ["not-a-signed-token"],   # subscribers' links (tests/subscriptions sign real ones)
        }


def _public_urls(app, values: dict[str, list]) -> list[str]:
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.startswith("admin."):
                continue
            names = sorted(rule.arguments)
            tag_slugs = list(db.session.scalars(select(Tag.slug)))
            choices = [tag_slugs if (n == "slug" and "tag" in rule.endpoint) else values[n] for n in names]
            for combination in itertools.product(*choices):
                urls.append(app.url_for(rule.endpoint, **dict(zip(names, combination))))
    return urls + [f"/search?q={q}" for q in SEARCHES] + ["/?page=2", "/tags/shared?page=2"]


def test_no_public_address_shows_anything_of_a_hidden_post(app, client, site):
    with app.app_context():
        urls = _public_urls(app, site)
    assert len(urls) > 20
    for url in urls:
        response = client.get(url)
        assert response.status_code < 500, url
        assert MARKER not in response.get_data(as_text=True).lower(), f"{url} shows a hidden post"


def test_hidden_posts_are_simply_not_found(app, client, site):
    for slug in site["slug"]:
        expected = 200 if slug == "visible-post" else 404
        assert client.get(f"/posts/{slug}").status_code == expected, slug


def test_tag_counts_count_only_visible_posts(client, site):
    index = client.get("/tags/").get_data(as_text=True)
    assert ">shared</a> (1)" in index
    assert "draftonly" not in index and "lateronly" not in index
    home = client.get("/").get_data(as_text=True)
    assert 'title="1 post"' in home and "draftonly" not in home


def test_archive_counts_only_visible_posts(client, site):
    page = client.get("/archive/").get_data(as_text=True)
    assert "(1)" in page and "(2)" not in page and "(3)" not in page


def test_feeds_list_only_the_visible_post(client, site):
    for url in ["/feed.rss", "/feed.atom", "/tags/shared/feed.rss", "/servers/NC036/feed.atom"]:
        feed = client.get(url).get_data(as_text=True)
        assert feed.count("Visible post") == 1, url


def test_a_scheduled_post_shows_up_by_itself_when_its_time_comes(app, client, site):
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.status == PostStatus.SCHEDULED))
        post.published_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        slug = post.slug
    assert client.get(f"/posts/{slug}").status_code == 200
    assert f"{MARKER} scheduled title" in client.get("/feed.rss").get_data(as_text=True)


def test_staff_do_not_see_hidden_posts_on_the_public_pages_either(auth, client, site):
    auth.login()
    assert MARKER not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/posts").get_data(as_text=True).count(MARKER) == 3
