"""Maintenance windows: announced ahead, UNDER MAINTENANCE inside, failures there not downtime."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ninerstatus.checks.status import server_state
from ninerstatus.extensions import db
from ninerstatus.history.raw import read_samples
from ninerstatus.models import Post, PostKind, PostStatus, Server
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from .conftest import START, add_check, reread


def maintenance(server: Server, starts_at: datetime, ends_at: datetime, *,
                status: PostStatus = PostStatus.PUBLISHED, published_at: datetime | None = None) -> Post:
    post = make_post("Kernel update on the mail server", kind=PostKind.MAINTENANCE, servers=(server,),
                     status=status, published_at=published_at or starts_at - timedelta(days=2))
    post.starts_at, post.ends_at = starts_at, ends_at
    db.session.commit()
    return post


def sidebar_entry(client, code: str) -> str:
    page = client.get("/").get_data(as_text=True)
    glance = page[page.index("Systems at a Glance"):page.index("Recent Posts")]
    return glance[glance.rindex('<li class="server', 0, glance.index(f'href="/servers/{code}"')):]


def test_inside_its_window_a_server_is_under_maintenance(ctx, client):
    server = make_server("NC036")
    now = utcnow()
    maintenance(server, now - timedelta(minutes=5), now + timedelta(minutes=25))
    assert server_state(server).label == "UNDER MAINTENANCE"
    entry = sidebar_entry(client, "NC036")
    assert "UNDER MAINTENANCE" in entry and "status-under-maintenance" in entry
    assert "maintenance until" in entry and "Kernel update on the mail server" in entry
    assert "UNDER MAINTENANCE" in client.get("/servers/NC036").get_data(as_text=True)


def test_ahead_of_its_window_a_server_shows_scheduled_maintenance(ctx, client):
    server = make_server("NC036")
    starts = utcnow().replace(microsecond=0) + timedelta(days=3)
    maintenance(server, starts, starts + timedelta(minutes=30), published_at=utcnow() - timedelta(hours=1))
    assert server_state(server).label == "OPERATIONAL"
    entry = sidebar_entry(client, "NC036")
    assert "scheduled maintenance" in entry and f"{starts.day} {starts:%b %H:%M} UTC" in entry
    assert "scheduled maintenance" in client.get("/servers/NC036").get_data(as_text=True)


@pytest.mark.parametrize("status, published_in", [
    (PostStatus.DRAFT, None),
    (PostStatus.SCHEDULED, timedelta(hours=1)),   # announced only from its publication time
])
def test_a_maintenance_post_not_yet_published_announces_and_changes_nothing(ctx, client, status, published_in):
    server = make_server("NC036")
    now = utcnow()
    post = maintenance(server, now - timedelta(minutes=5), now + timedelta(minutes=25), status=status,
                       published_at=now + published_in if published_in else None)
    if status is PostStatus.DRAFT:
        post.published_at = None
        db.session.commit()
    assert server_state(server).label == "OPERATIONAL"
    assert "maintenance" not in sidebar_entry(client, "NC036")


def test_after_its_window_a_server_is_back_to_its_checks(ctx):
    server = make_server("NC036")
    now = utcnow()
    maintenance(server, now - timedelta(hours=2), now - timedelta(hours=1))
    assert server_state(server).label == "OPERATIONAL"
    assert server_state(server).maintenance is None


def test_failures_in_a_window_are_not_downtime_and_draft_nothing_until_it_ends(probe_runner, clock, greeter):
    server = make_server("NC036")
    check = add_check(server, greeter.port)
    maintenance(server, START + timedelta(minutes=1), START + timedelta(minutes=4))

    probe_runner.run_due()                               # 12:00, before the window
    greeter.answering = False
    for minute in (1, 2, 3):                             # inside it: the mail server is down for its update
        clock.now = START + timedelta(minutes=minute)
        probe_runner.sweep_servers(clock.now)
        probe_runner.run_due()
    reread()
    history = [(sample.status, sample.in_maintenance) for sample in read_samples([check.id])]
    assert history == [(Status.OK, False), (Status.CRITICAL, True), (Status.CRITICAL, True), (Status.CRITICAL, True)]
    assert db.session.get(Server, server.id).state == "maintenance"
    assert db.session.scalars(db.select(Post).where(Post.origin == "probe")).all() == []

    clock.now = START + timedelta(minutes=4)             # the window closes and the server is still down
    probe_runner.sweep_servers(clock.now)
    reread()
    server = db.session.get(Server, server.id)
    assert server.state == "critical" and server.state_since == START + timedelta(minutes=4)
    assert server.incident_post is not None and server.incident_post.status is PostStatus.DRAFT
