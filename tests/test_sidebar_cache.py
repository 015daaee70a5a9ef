"""The sidebar cache: drawn once per period and shared by every page and reader, emptied by staff changes."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import template_rendered
from sqlalchemy import event, select

from ninerstatus.checks import status
from ninerstatus.extensions import db
from ninerstatus.models import PostStatus, Server, Visibility
from ninerstatus.probing import Status
from ninerstatus.public.sidebar import EXTENSION_KEY, MAX_ENTRIES, SidebarCache
from ninerstatus.timeutil import utcnow

from .factories import make_post, make_server
from .history.conftest import add_check, result
from .runner.conftest import FakeClock
from .test_pagecache import Clock, staff  # noqa: F401  (staff: a second client, signed in as an admin)

SECONDS = 5


@pytest.fixture
def app_config():
    return {"SIDEBAR_CACHE_SECONDS": SECONDS, "PLUGINS_FOLDER": str(Path(__file__).parent / "local_plugins")}


@pytest.fixture(autouse=True)
def time_stands_still(app, monkeypatch):
    """The cache's period and the pages' "checked 30 s ago" move only when a test moves them.

    A sidebar is then drawn the same way however slowly the machine runs the test.
    """
    monkeypatch.setattr(status, "utcnow", FakeClock(utcnow()))
    if EXTENSION_KEY in app.extensions:
        app.extensions[EXTENSION_KEY].clock = Clock()


@pytest.fixture
def site(app):
    """A public server with a public and a staff-only check, an internal server, two posts and a draft."""
    with app.app_context():
        public = make_server("NC036", display_order=1)
        for label, visibility in (("SMTP 587", Visibility.PUBLIC), ("Backup agent", Visibility.INTERNAL)):
            add_check(public, label, visibility).record(result(Status.OK, utcnow() - timedelta(seconds=30)))
        make_server("NC041", Visibility.INTERNAL, display_order=2)
        make_post("Mail delayed", tags=("mail",), servers=(public,))
        make_post("DNS migrated", tags=("dns",))
        make_post("Secret plans", status=PostStatus.DRAFT, tags=("secret",))
        db.session.commit()


@pytest.fixture
def draws(app) -> list[str]:
    """Each time the sidebar template is drawn, the path of the page that drew it."""
    paths: list[str] = []

    def note(_app, template, context, **_extra):
        if template.name == "sidebar.html":
            paths.append(context["request"].path)

    template_rendered.connect(note, app)
    yield paths
    template_rendered.disconnect(note, app)


@pytest.fixture
def sql(app) -> list[str]:
    """Every SQL statement sent while the test runs."""
    with app.app_context():
        engine = db.engine
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    yield sent
    event.remove(engine, "before_cursor_execute", note)


def sidebar_of(response) -> str:
    page = response.get_data(as_text=True)
    return page[page.index('<aside class="sidebar"'):page.index("</aside>")]


def statements(client, sql: list[str], path: str) -> int:
    """How many SQL statements drawing ``path`` sends."""
    sql.clear()
    assert client.get(path).status_code == 200
    return len(sql)


def test_the_next_page_shows_the_same_sidebar_with_fewer_statements(app, client, site, draws, sql):
    first = client.get("/posts/mail-delayed")
    kept = statements(client, sql, "/posts/dns-migrated")
    app.extensions[EXTENSION_KEY].clear()
    drawn = statements(client, sql, "/posts/dns-migrated")
    assert kept < drawn
    assert draws == ["/posts/mail-delayed", "/posts/dns-migrated"]
    sidebar = sidebar_of(first)
    assert "NC036" in sidebar and "SMTP 587" in sidebar and "DNS migrated" in sidebar
    assert sidebar_of(client.get("/tags/")) == sidebar


def test_a_staff_change_shows_on_the_very_next_page(app, client, site, staff, draws):
    assert "NC050" not in sidebar_of(client.get("/"))
    with app.app_context():
        server_id = db.session.scalar(select(Server.id).where(Server.code == "NC036"))
    renamed = staff.post(f"/admin/servers/{server_id}", {"code": "NC050", "role": "Mail server", "city": "Oslo",
                                                          "country": "Norway", "visibility": "public",
                                                          "display_order": "1", "notes": ""})
    assert renamed.status_code == 302
    sidebar = sidebar_of(client.get("/posts/mail-delayed"))
    assert "NC050" in sidebar and "NC036" not in sidebar
    published = staff.post("/admin/posts/new", {"title": "Mail flowing again", "body": "<p>Done.</p>",
                                                "kind": "incident", "tags": "", "action": "publish"})
    assert published.status_code == 302
    assert "Mail flowing again" in sidebar_of(client.get("/posts/dns-migrated"))


def test_a_refused_change_keeps_the_sidebar(app, client, site, draws):
    client.get("/")
    assert client.post("/admin/posts/new", data={"title": "x"}).status_code == 400  # no CSRF token
    client.get("/tags/")
    assert draws == ["/"]


def test_a_database_change_from_elsewhere_appears_once_the_period_is_over(app, client, site):
    clock = app.extensions[EXTENSION_KEY].clock = Clock()
    client.get("/")
    with app.app_context():
        make_post("Written by another worker")
    clock.now += SECONDS - 0.1
    assert "Written by another worker" not in sidebar_of(client.get("/tags/"))
    clock.now += 0.1
    assert "Written by another worker" in sidebar_of(client.get("/tags/"))


@pytest.mark.parametrize("app_config", [{"SIDEBAR_CACHE_SECONDS": 0}])
def test_zero_seconds_keeps_nothing(app, client, site, draws):
    assert EXTENSION_KEY not in app.extensions
    client.get("/")
    with app.app_context():
        make_post("Written by another worker")
    assert "Written by another worker" in sidebar_of(client.get("/tags/"))
    assert draws == ["/", "/tags/"]


def test_drafts_and_staff_only_data_reach_nobodys_sidebar_whoever_drew_it(app, client, site, staff, draws):
    for_staff = staff.client.get("/")
    assert "Signed in as" in for_staff.get_data(as_text=True)
    assert staff.post("/admin/posts/new", {"title": "Half written", "body": "<p>Soon.</p>", "kind": "incident",
                                           "tags": "", "action": "draft"}).status_code == 302
    drawn_for_staff = sidebar_of(staff.client.get("/tags/"))
    for_visitor = sidebar_of(client.get("/posts/mail-delayed"))
    assert for_visitor == drawn_for_staff and draws == ["/", "/tags/"]
    for hidden in ("Secret plans", "secret", "Half written", "Backup agent"):
        assert hidden not in for_visitor
    assert "NC041" in for_visitor and "INTERNAL" in for_visitor


def test_each_application_root_gets_its_own_sidebar(app, client, site, draws):
    at_root = sidebar_of(client.get("/"))
    mounted = sidebar_of(client.get("/", base_url="http://status.test/status/"))
    assert 'href="/servers/NC036"' in at_root
    assert 'href="/status/servers/NC036"' in mounted
    assert sidebar_of(client.get("/tags/", base_url="http://status.test/status/")) == mounted
    assert draws == ["/", "/"]


def test_a_sidebar_drawn_while_content_changed_is_not_kept(app, client, site, draws):
    cache = app.extensions[EXTENSION_KEY]
    changes: list[str] = []

    def change_meanwhile(_app, template, context, **_extra):
        if template.name == "sidebar.html" and not changes:
            changes.append(context["request"].path)
            cache.clear()  # as a staff request ending in another thread while the sidebar is drawn

    template_rendered.connect(change_meanwhile, app)
    for path in ("/", "/tags/", "/archive/"):
        client.get(path)
    template_rendered.disconnect(change_meanwhile, app)
    assert draws == ["/", "/tags/"]


def test_the_cache_never_holds_more_than_its_bound():
    cache = SidebarCache(SECONDS)
    for number in range(MAX_ENTRIES * 3):
        cache.html(f"/root{number}", lambda: "sidebar")
    assert 0 < len(cache._entries) <= MAX_ENTRIES
