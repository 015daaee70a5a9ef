"""Maintenance windows: staff give a maintenance post its start and end; visitors are told ahead and during."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, PostKind, PostStatus
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from ..summary_text import summary_items

FORM_TIME = "%Y-%m-%dT%H:%M"


def write(auth, action: str = "publish", **fields):
    data = {"title": "Kernel update on NC036", "body": "<p>A restart.</p>", "kind": "maintenance", "tags": "",
            "action": action, **fields}
    return auth.post("/admin/posts/new", data)


def stored(app) -> Post | None:
    with app.app_context():
        return db.session.scalar(select(Post))


def server_id(app, code: str = "NC036") -> int:
    with app.app_context():
        return make_server(code).id


def window_post(app, starts_in: timedelta, lasts: timedelta = timedelta(minutes=30),
                status: PostStatus = PostStatus.PUBLISHED) -> str:
    """A maintenance post on NC036 and NC041 with a window starting ``starts_in`` from now; its slug."""
    with app.app_context():
        later = utcnow() + timedelta(days=1) if status is PostStatus.SCHEDULED else None
        post = make_post("Kernel update", kind=PostKind.MAINTENANCE, status=status, published_at=later,
                         servers=(make_server("NC036"), make_server("NC041")))
        post.starts_at = utcnow() + starts_in
        post.ends_at = post.starts_at + lasts
        db.session.commit()
        return post.slug


def notices(html: str) -> list[str]:
    """The maintenance sentences of a page, as text."""
    return [" ".join(re.sub(r"<[^>]+>", "", m).split())
            for m in re.findall(r'<p class="maintenance-window[^"]*">(.*?)</p>', html, re.S)]


def test_the_editor_asks_for_the_window_in_utc_and_hints_local_time(auth):
    auth.login_editor()
    page = auth.client.get("/admin/posts/new").get_data(as_text=True)
    for name, label in (("starts_at", "Maintenance starts (UTC)"), ("ends_at", "Maintenance ends (UTC)")):
        assert re.search(rf'<input[^>]*data-utc-input[^>]*id="{name}"|<input[^>]*id="{name}"[^>]*data-utc-input', page)
        assert f'data-local-time-for="{name}"' in page and label in page
    assert "Times are UTC (now " in page


def test_a_maintenance_post_keeps_its_window_in_utc(app, auth):
    nc036 = server_id(app)
    auth.login_editor()
    response = write(auth, starts_at="2031-03-01T23:00", ends_at="2031-03-02T00:30", servers=[str(nc036)])
    assert response.status_code == 302
    post = stored(app)
    assert post.starts_at == datetime(2031, 3, 1, 23, 0, tzinfo=timezone.utc)
    assert post.ends_at == datetime(2031, 3, 2, 0, 30, tzinfo=timezone.utc)
    page = auth.client.get(response.location).get_data(as_text=True)
    assert 'value="2031-03-01T23:00"' in page and 'value="2031-03-02T00:30"' in page


@pytest.mark.parametrize("starts, ends, message", [
    ("2031-03-01T23:00", "2031-03-01T22:00", "The maintenance must end after it starts."),
    ("2031-03-01T23:00", "2031-03-01T23:00", "The maintenance must end after it starts."),
    ("2031-03-01T23:00", "", "Give the maintenance both a start and an end, or neither."),
    ("", "2031-03-01T23:00", "Give the maintenance both a start and an end, or neither."),
])
def test_a_window_must_have_both_ends_in_order(app, auth, starts, ends, message):
    auth.login()
    response = write(auth, starts_at=starts, ends_at=ends)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored(app) is None


def test_other_kinds_of_post_have_no_window(app, auth):
    auth.login()
    write(auth, kind="notice", starts_at="2031-03-01T23:00", ends_at="2031-03-01T22:00")
    post = stored(app)
    assert post.kind is PostKind.NOTICE and (post.starts_at, post.ends_at) == (None, None)


def test_turning_a_maintenance_post_into_a_notice_drops_its_window(app, auth):
    auth.login()
    write(auth, starts_at="2031-03-01T23:00", ends_at="2031-03-02T00:30")
    post_id = stored(app).id
    auth.post(f"/admin/posts/{post_id}", {"title": "Kernel update on NC036", "body": "<p>A restart.</p>",
                                          "kind": "notice", "tags": "", "action": "publish",
                                          "starts_at": "2031-03-01T23:00", "ends_at": "2031-03-02T00:30"})
    assert (stored(app).starts_at, stored(app).ends_at) == (None, None)


def test_the_preview_shows_the_window(app, auth):
    auth.login()
    page = auth.post("/admin/posts/preview", {"title": "Kernel update", "body": "<p>A restart.</p>",
                                              "kind": "maintenance", "starts_at": "2031-03-01T23:00",
                                              "ends_at": "2031-03-02T00:30"}).get_data(as_text=True)
    assert notices(page) == ["Scheduled maintenance: our services from 1 March 2031 23:00:00 +0000 to "
                             "2 March 2031 00:30:00 +0000"]


def test_visitors_are_told_ahead_of_time(app, client):
    slug = window_post(app, timedelta(hours=3))
    home = client.get("/").get_data(as_text=True)
    # Other pages list the window in the status summary, once; the post's own page says it in full.
    assert notices(home) == []
    [item] = summary_items(home)
    assert item.startswith("Kernel update Scheduled · NC036, NC041 · from ") and " UTC to " in item
    [page] = notices(client.get(f"/posts/{slug}").get_data(as_text=True))
    assert page.startswith("Scheduled maintenance: NC036, NC041 from ") and "+0000 to " in page


def test_visitors_are_told_while_it_lasts_and_no_more_after(app, client):
    slug = window_post(app, -timedelta(minutes=10))
    [home] = summary_items(client.get("/").get_data(as_text=True))
    assert home.startswith("Kernel update In progress · NC036, NC041 · since ") and ", until " in home
    [page] = notices(client.get(f"/posts/{slug}").get_data(as_text=True))
    assert page.startswith("Under maintenance: NC036, NC041 until ")
    with app.app_context():
        post = db.session.scalar(select(Post))
        post.starts_at, post.ends_at = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
        db.session.commit()
    assert summary_items(client.get("/").get_data(as_text=True)) == []
    [page] = notices(client.get(f"/posts/{slug}").get_data(as_text=True))
    assert page.startswith("Maintenance over: NC036, NC041 from ")


@pytest.mark.parametrize("status", [PostStatus.DRAFT, PostStatus.SCHEDULED])
def test_a_window_nobody_published_announces_nothing(app, client, status):
    window_post(app, timedelta(hours=3), status=status)
    assert summary_items(client.get("/").get_data(as_text=True)) == []
    assert "Kernel update" not in client.get("/servers/NC036").get_data(as_text=True)
