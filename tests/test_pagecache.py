"""The page cache: public pages drawn once per period for visitors, never for staff, dropped on staff changes."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import make_response, request

from ninerstatus.models import Post, PostStatus, Role
from ninerstatus.public.pagecache import EXTENSION_KEY, REFRESH_GRACE, PageCache

from .admin.accounts import ADMIN_EMAIL, add_user
from .admin.conftest import AuthActions
from .conftest import make_test_app
from .factories import make_post

SECONDS = 5


class Clock:
    """Monotonic seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def app_config():
    return {"PAGE_CACHE_SECONDS": SECONDS, "PLUGINS_FOLDER": str(Path(__file__).parent / "local_plugins")}


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock()
    app.extensions[EXTENSION_KEY].clock = clock
    return clock


@pytest.fixture
def drawn(app) -> list[str]:
    """The paths the app itself answered (the cache answers the others)."""
    paths: list[str] = []

    @app.before_request
    def count():
        paths.append(request.full_path.rstrip("?"))

    return paths


@pytest.fixture
def staff(app):
    """A second client, signed in as an admin."""
    with app.app_context():
        add_user(ADMIN_EMAIL, Role.ADMIN, "Ann Admin")
    actions = AuthActions(app.test_client())
    actions.login()
    return actions


def publish(app, title: str, status: PostStatus = PostStatus.PUBLISHED) -> Post:
    """A post written straight into the database, as another worker or process would."""
    with app.app_context():
        return make_post(title, status=status)


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_public_page_is_drawn_once_per_period_and_never_shown_older(app, client, clock, drawn):
    publish(app, "First report")
    first = client.get("/")
    publish(app, "Second report")
    clock.now += SECONDS - 0.1
    again = client.get("/")
    assert text(again) == text(first) and "Second report" not in text(again)
    assert drawn == ["/"] and again.headers["Age"] == "4"

    clock.now += 0.1
    fresh = client.get("/")
    assert "Second report" in text(fresh) and fresh.headers["Age"] == "0"
    assert drawn == ["/", "/"]


def test_the_query_string_and_path_are_part_of_the_key(app, client, clock, drawn):
    for path in ("/search?q=mail", "/search?q=dns", "/search?q=mail", "/tags/", "/"):
        client.get(path)
    assert drawn == ["/search?q=mail", "/search?q=dns", "/tags/", "/"]


def test_a_revalidating_visitor_gets_304_from_the_cache(app, client, clock, drawn):
    etag = client.get("/").headers["ETag"]
    response = client.get("/", headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b"" and response.headers["ETag"] == etag
    assert client.get("/", headers={"If-None-Match": '"other"'}).status_code == 200
    assert drawn == ["/"]


def test_the_api_is_kept_too_with_its_headers(app, client, clock, drawn):
    first = client.get("/api/v2/summary.json")
    again = client.get("/api/v2/summary.json")
    assert again.get_json() == first.get_json() and drawn == ["/api/v2/summary.json"]
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    assert again.headers["Content-Type"] == "application/json"


def write(staff, title: str, action: str):
    return staff.post("/admin/posts/new", {"title": title, "body": "<p>Queued.</p>", "kind": "incident",
                                           "tags": "", "action": action})


def test_staff_changes_in_this_worker_reach_visitors_at_once_and_drafts_never(app, client, clock, drawn, staff):
    client.get("/")
    assert write(staff, "Mail delayed", "draft").status_code == 302
    assert "Mail delayed" not in text(client.get("/"))
    assert write(staff, "Mail flowing again", "publish").status_code == 302
    page = text(client.get("/"))
    assert "Mail flowing again" in page and "Mail delayed" not in page
    assert drawn.count("/") == 3


def test_a_refused_change_keeps_the_pages(app, client, clock, drawn):
    client.get("/")
    assert client.post("/admin/posts/new", data={"title": "x"}).status_code == 400  # no CSRF token
    client.get("/")
    assert drawn.count("/") == 1


def test_a_page_drawn_while_content_changed_is_not_kept(app, client, clock, drawn):
    cache = app.extensions[EXTENSION_KEY]

    @app.before_request
    def change_meanwhile():
        if len(drawn) == 1:
            cache.clear()  # as a staff request ending in another thread while the page is drawn

    for _ in range(3):
        client.get("/")
    assert drawn == ["/", "/"]


def test_pages_drawn_for_staff_are_never_kept_nor_is_staff_served_a_kept_page(app, client, clock, drawn, staff):
    for_staff = staff.client.get("/")
    assert "Signed in as" in text(for_staff) and for_staff.headers["Cache-Control"] == "private, no-store"
    for_visitor = client.get("/")
    assert "Signed in as" not in text(for_visitor) and "public" in for_visitor.headers["Cache-Control"]
    assert "Signed in as" in text(staff.client.get("/"))
    assert drawn.count("/") == 3


def test_a_visitor_with_a_leftover_session_cookie_is_answered_by_the_app(app, client, clock, drawn):
    client.get("/")
    client.set_cookie("session", "anything", domain="status.test")
    client.get("/")
    client.set_cookie("remember_token", "anything", domain="status.test")
    client.delete_cookie("session", domain="status.test")
    client.get("/")
    assert drawn == ["/", "/", "/"]


def test_answers_that_set_a_cookie_or_are_not_public_are_not_kept(app, client, clock, drawn):
    @app.get("/sets-a-cookie")
    def sets_a_cookie():
        response = make_response("hello")
        response.cache_control.public = True
        response.set_cookie("flavour", "oat")
        return response

    @app.get("/no-store")
    def no_store():
        response = make_response("hello")
        response.cache_control.public = True
        response.cache_control.no_store = True
        return response

    for path in ("/sets-a-cookie", "/sets-a-cookie", "/no-store", "/no-store", "/nowhere", "/nowhere"):
        client.get(path)
    assert drawn == ["/sets-a-cookie", "/sets-a-cookie", "/no-store", "/no-store", "/nowhere", "/nowhere"]


def test_while_one_request_redraws_an_expired_page_the_others_get_the_old_one(app, client, clock, drawn):
    publish(app, "First report")
    client.get("/")
    publish(app, "Second report")
    clock.now += SECONDS
    cache = app.extensions[EXTENSION_KEY]
    [(key, _)] = cache._entries.items()
    assert cache._usable(key) is None                  # this request redraws...
    assert "Second report" not in cache._usable(key).body.decode()   # ...the others are served meanwhile
    clock.now += REFRESH_GRACE
    assert cache._usable(key) is None                  # a redraw that never came back is tried again


def test_head_is_answered_from_a_kept_page_without_a_body(app, client, clock, drawn):
    page = client.get("/")
    head = client.head("/")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["Content-Length"] == page.headers["Content-Length"]
    assert drawn == ["/"]


def test_zero_seconds_leaves_the_app_unwrapped(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'unused.sqlite'}", tmp_path, PAGE_CACHE_SECONDS=0)
    assert EXTENSION_KEY not in app.extensions
    assert not isinstance(app.wsgi_app, PageCache)
