"""What visitors see: posts, pages, sidebar, archive, search and error pages."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ninerstatus import models
from ninerstatus.models import PostStatus, Visibility
from ninerstatus.timeutil import utcnow

from .factories import main_of, make_post, make_server
from .runner.conftest import FakeClock


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def test_home_lists_published_posts_newest_first_with_time_in_the_sites_form(ctx, client):
    make_post("Older outage", age=timedelta(days=2))
    make_post("Newer outage", published_at=datetime(2018, 8, 18, 1, 11, 2, tzinfo=timezone.utc) + timedelta(days=3000))
    make_post("Middle notice", published_at=datetime(2018, 8, 18, 1, 11, 2, tzinfo=timezone.utc))
    page = client.get("/").get_data(as_text=True)
    assert "Server and System Status" in page
    assert page.index("Older outage") < page.index("Middle notice")
    assert "18 August 2018 01:11:02 +0000" in page


def test_post_shows_its_tags_and_affected_servers(ctx, client):
    server = make_server("NC036")
    make_post("Mail delays", tags=("email", "smtp"), servers=(server,), slug="mail-delays")
    page = client.get("/posts/mail-delays").get_data(as_text=True)
    assert 'href="/tags/email"' in page and 'href="/tags/smtp"' in page
    assert 'href="/servers/NC036"' in page


def test_home_is_paginated_and_pages_link_to_each_other(ctx, client):
    for n in range(12):
        make_post(f"Post number {n:02d}", age=timedelta(hours=n + 1))
    first = main_of(client.get("/"))
    second = main_of(client.get("/?page=2"))
    assert "Post number 00" in first and "Post number 10" not in first
    assert "Post number 10" in second and "Post number 00" not in second
    assert 'href="/?page=2"' in first and 'href="/?page=1"' in second


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "٣", "9" * 30])
def test_a_page_number_that_is_not_a_number_gets_a_clear_400(ctx, client, page):
    response = client.get(f"/?page={page}")
    assert response.status_code == 400
    assert "is not a page number" in response.get_data(as_text=True)
    assert "Systems at a Glance" in response.get_data(as_text=True)


def test_a_page_past_the_end_is_a_404_naming_the_last_page(ctx, client):
    make_post("Only post")
    response = client.get("/?page=7")
    assert response.status_code == 404
    assert "the last page is 1" in response.get_data(as_text=True)


def test_unknown_addresses_get_the_sites_404_page(ctx, client):
    for url in ("/no/such/page", "/posts/nothing-here", "/tags/nothing", "/servers/NC999", "/archive/2018/13"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Page not found" in response.get_data(as_text=True)


def test_sidebar_lists_every_server_with_public_or_internal_label(ctx, client):
    make_server("NC036", role="Mail server", city="Amsterdam", country="Netherlands", display_order=2)
    make_server("NC023", Visibility.INTERNAL, role="Relay server", city="London", country="United Kingdom",
                display_order=1)
    page = client.get("/").get_data(as_text=True)
    glance = page[page.index("Systems at a Glance"):]
    assert glance.index("NC023") < glance.index("NC036")
    assert "London, United Kingdom" in glance and "Relay server" in glance
    nc023 = glance[glance.index("NC023"):glance.index("NC036")]
    assert "INTERNAL" in nc023 and "OPERATIONAL" not in nc023
    assert "OPERATIONAL" in glance[glance.index("NC036"):]


def test_tag_cloud_weighs_tags_by_their_published_posts(ctx, client):
    for n in range(4):
        make_post(f"Mail {n}", tags=("email",))
    make_post("DNS once", tags=("dns",))
    page = client.get("/").get_data(as_text=True)
    assert 'class="w5" href="/tags/email" title="4 posts"' in page
    assert 'class="w1" href="/tags/dns" title="1 post"' in page


def test_tag_cloud_counts_only_what_visitors_may_read(ctx, client):
    make_post("Mail now", tags=("email", "dns"))
    make_post("Mail earlier", tags=("email",), age=timedelta(days=3))
    make_post("Mail draft", tags=("email",), status=PostStatus.DRAFT)
    make_post("Mail tomorrow", tags=("email", "ftp"), status=PostStatus.SCHEDULED, age=-timedelta(days=1))
    make_post("Only a draft", tags=("secret",), status=PostStatus.DRAFT)
    cloud = client.get("/").get_data(as_text=True)
    cloud = cloud[cloud.index('<p class="cloud">'):]
    cloud = cloud[:cloud.index("</p>")]
    assert 'href="/tags/email" title="2 posts"' in cloud and 'href="/tags/dns" title="1 post"' in cloud
    assert "/tags/ftp" not in cloud and "/tags/secret" not in cloud


def test_server_page_shows_details_and_every_post_that_affected_it(ctx, client):
    mail = make_server("NC036", notes="Postfix and Dovecot")
    web = make_server("NC041", role="Web server")
    make_post("Mail queue stuck", servers=(mail,))
    make_post("Web outage", servers=(web,))
    main = main_of(client.get("/servers/NC036"))
    assert "Mail server" in main and "Amsterdam, Netherlands" in main and "Postfix and Dovecot" in main
    assert "Mail queue stuck" in main and "Web outage" not in main


def test_tag_page_lists_only_that_tags_posts(ctx, client):
    make_post("About DNS", tags=("dns",))
    make_post("About mail", tags=("email",))
    main = main_of(client.get("/tags/dns"))
    assert "About DNS" in main and "About mail" not in main


def test_archive_lists_months_and_month_pages_hold_their_posts(ctx, client):
    make_post("June news", published_at=datetime(2018, 6, 30, 23, 59, 59, tzinfo=timezone.utc))
    make_post("July news", published_at=datetime(2018, 7, 1, 0, 0, 0, tzinfo=timezone.utc))
    archive = client.get("/archive/").get_data(as_text=True)
    assert 'href="/archive/2018/7">July 2018</a> (1)' in archive
    assert 'href="/archive/2018/6">June 2018</a> (1)' in archive
    june = main_of(client.get("/archive/2018/6"))
    assert "June news" in june and "July news" not in june


def test_search_finds_words_in_titles_and_text_but_not_in_markup(ctx, client):
    make_post("Relay trouble", "<p>Nothing else</p>")
    make_post("Other", "<p>The <strong>relay</strong> queue grew</p>")
    make_post("Unrelated", "<p>Plain text</p>")
    main = main_of(client.get("/search?q=RELAY"))
    assert "Relay trouble" in main and "Other" in main and "Unrelated" not in main
    assert "2 posts found" in main
    main = main_of(client.get("/search?q=strong"))
    assert "0 posts found" in main


@pytest.mark.parametrize("query", ["%", "_", "50%", "a_b", "\\"])
def test_search_takes_wildcards_literally(ctx, client, query):
    make_post("Disk at 50% on a_b \\ host")
    make_post("Disk at 5000 on axb host")
    main = main_of(client.get("/search", query_string={"q": query}))
    assert "1 post found" in main
    assert "axb" not in main


def test_search_refuses_overlong_queries_clearly(ctx, client):
    response = client.get("/search", query_string={"q": "x" * 201})
    assert response.status_code == 400
    assert "at most 200 characters" in response.get_data(as_text=True)


def test_drafts_and_future_posts_are_invisible_everywhere(ctx, client):
    server = make_server("NC036")
    make_post("Published one", tags=("email",), servers=(server,))
    make_post("Secret draft", status=PostStatus.DRAFT, tags=("email", "leak"), servers=(server,), slug="draft")
    make_post("Future plan", status=PostStatus.SCHEDULED, published_at=utcnow() + timedelta(days=1),
              tags=("email", "leak"), servers=(server,), slug="future")
    make_post("Published later", status=PostStatus.PUBLISHED, published_at=utcnow() + timedelta(days=1),
              tags=("leak",), slug="later")
    urls = ["/", "/tags/email", "/tags/leak", "/servers/NC036", "/archive/", "/search?q=e", "/tags/",
            "/feed.rss", "/feed.atom", "/tags/email/feed.rss", "/servers/NC036/feed.atom",
            f"/archive/{utcnow().year}/{utcnow().month}"]
    for url in urls:
        text = client.get(url).get_data(as_text=True)
        for secret in ("Secret draft", "Future plan", "Published later"):
            assert secret not in text, f"{secret} leaked through {url}"
    assert 'title="2 posts"' not in client.get("/").get_data(as_text=True)
    assert "leak" not in client.get("/tags/").get_data(as_text=True)
    for slug in ("draft", "future", "later"):
        assert client.get(f"/posts/{slug}").status_code == 404
    # A tag carried only by hidden posts is not found: its name would give them away.
    for url in ("/tags/leak", "/tags/leak/feed.rss", "/tags/leak/feed.atom"):
        assert client.get(url).status_code == 404, url
    assert client.get("/tags/email").status_code == 200


def test_a_scheduled_post_appears_by_itself_when_its_time_comes(ctx, client, monkeypatch):
    clock = FakeClock(utcnow())
    monkeypatch.setattr(models, "utcnow", clock)  # the clock visitors' pages are drawn by
    make_post("Planned work", status=PostStatus.SCHEDULED, published_at=clock() + timedelta(seconds=2),
              slug="planned")
    assert client.get("/posts/planned").status_code == 404
    clock.advance(1.9)
    assert client.get("/posts/planned").status_code == 404
    clock.advance(0.1)
    assert client.get("/posts/planned").status_code == 200
    assert "Planned work" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("title", ['<script>alert("t")</script>', "]]><b>x</b>", "Tom & Jerry's \"quote\""])
def test_titles_with_markup_are_escaped_in_pages_and_the_title_element(ctx, client, title):
    make_post(title, slug="escaped", tags=("<i>tag</i>",))
    for url in ("/", "/posts/escaped", "/tags/i-tag-i"):
        page = client.get(url).get_data(as_text=True)
        assert title not in page, url
    page = client.get("/posts/escaped").get_data(as_text=True)
    head = page[page.index("<title>"):page.index("</title>")]
    assert title not in head and "<script>" not in head and "<b>" not in head
    assert "&lt;i&gt;tag&lt;/i&gt;" in page


def test_public_pages_carry_an_etag_and_answer_304_when_unchanged(ctx, client):
    make_post("Cached")
    first = client.get("/")
    assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
    again = client.get("/", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_api_lists_servers_with_their_status_words(ctx, client):
    make_server("NC036")
    make_server("NC023", Visibility.INTERNAL)
    body = client.get("/api/servers").get_json()
    assert [(s["code"], s["status"]) for s in body["servers"]] == [("NC023", "internal"), ("NC036", "operational")]
    assert client.get("/api/servers/NC999").status_code == 404
    assert client.get("/api/servers/NC999").get_json()["error"]["code"] == 404
