"""Every GET route visitors and machines use (subscription pages included), with a URL for each, for tests that must visit them all.

``make_routed_site`` adds what the URLs point at; ``route_urls`` fails when a
route has been added without a URL here, so no test that visits every route
silently misses a new one.
"""
from __future__ import annotations

from datetime import timedelta

from ninerstatus.models import Post
from ninerstatus.probing import Status

from .api.conftest import add_check
from .factories import make_post, make_server

#: A URL for each GET route of the visitors' and the machines' blueprints.
URLS = {
    "public.home": "/",
    "public.post": "/posts/mail-delays",
    "public.tags": "/tags/",
    "public.tag": "/tags/mail",
    "public.server": "/servers/NC036",
    "public.archive": "/archive/",
    "public.archive_month": "/archive/{year}/{month}",
    "public.search": "/search?q=delays",
    "public.favicon": "/favicon.ico",
    "public.site_feed": "/feed.atom",
    "public.server_feed": "/servers/NC036/feed.rss",
    "public.tag_feed": "/tags/mail/feed.atom",
    "public.uploaded_image": "/uploads/0123456789abcdef0123456789abcdef.png",
    "public.old_dated_post": "/2018/06/20/nc036-migration-update-25-final/",
    "public.old_month_post": "/2018/06/nc036-migration-update-25-final/",
    "public.old_tag": "/tag/email/",
    "public.old_category": "/category/servers/mail-servers/",
    "public.old_feed": "/feed/",
    "api.servers": "/api/servers",
    "api.server": "/api/servers/NC036",
    "api.summary": "/api/v2/summary.json",
    "api.status": "/api/v2/status.json",
    "api.components": "/api/v2/components.json",
    "api.incidents": "/api/v2/incidents.json",
    "api.unresolved_incidents": "/api/v2/incidents/unresolved.json",
    "api.scheduled_maintenances": "/api/v2/scheduled-maintenances.json",
    "api.active_maintenances": "/api/v2/scheduled-maintenances/active.json",
    "api.upcoming_maintenances": "/api/v2/scheduled-maintenances/upcoming.json",
    "subscriptions.subscribe": "/subscribe?email=someone%40example.com&server=NC036",
    "subscriptions.confirm": "/subscribe/confirm/not-a-signed-token",
    "subscriptions.manage": "/subscribe/manage/not-a-signed-token",
    "subscriptions.unsubscribe_page": "/unsubscribe/not-a-signed-token",
}
#: What each URL answers when all is well: the favicon and WordPress's feed address redirect, the site
#: has no image stored (tests/admin/test_image_uploads.py serves real ones) and nothing imported from
#: WordPress (tests/imports/test_old_links.py follows the old addresses of imported posts).
EXPECTED = {"/favicon.ico": 301, "/uploads/0123456789abcdef0123456789abcdef.png": 404, "/feed/": 301,
            "/2018/06/20/nc036-migration-update-25-final/": 404, "/2018/06/nc036-migration-update-25-final/": 404,
            "/tag/email/": 404, "/category/servers/mail-servers/": 404,
            # Links from subscribers' mails, here without a valid signature (tests/subscriptions sign real ones).
            "/subscribe/confirm/not-a-signed-token": 400, "/subscribe/manage/not-a-signed-token": 400,
            "/unsubscribe/not-a-signed-token": 400}


def make_routed_site() -> Post:
    """Server NC036 with a public check that is OK, and the post "Mail delays" tagged mail; returns the post."""
    server = make_server("NC036")
    add_check(server, Status.OK, "STARTTLS ok", label="Submission")
    return make_post("Mail delays", "<p>Queues were slow.</p>", tags=("mail",), servers=(server,),
                     age=timedelta(days=3))


def route_urls(app, post: Post) -> list[str]:
    """The URL of every public and API GET route of ``app``, pointing at ``make_routed_site``'s data."""
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.endpoint.split(".")[0] in ("public", "api", "subscriptions") and "GET" in rule.methods}
    assert routes == set(URLS), "tests/public_routes.py needs a URL for each new route"
    return [url.format(year=post.published_at.year, month=post.published_at.month) for url in URLS.values()]
