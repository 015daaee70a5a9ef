"""Open incidents and maintenance windows read as plain rows: what the summary, the floors and the dashboard show.

Each list is one statement of a row per post and server (``post_rows.py``);
these tests pin what the rows must carry: every post once, its servers in
the sidebar's order, its newest update by time then by id, and posts naming
no server at all.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from ninerstatus.extensions import db
from ninerstatus.incident_floors import floors_by_server, open_incidents
from ninerstatus.models import AffectedState, IncidentImpact, PostKind, PostStatus, UpdateState
from ninerstatus.site_status import open_windows, summarise
from ninerstatus.timeutil import utcnow

from .factories import make_post, make_server
from .site_states import add_update


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def statements_of(call):
    """``call()``'s value and the number of SQL statements it sent."""
    sent = []
    listener = lambda *_args: sent.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        return call(), len(sent)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def servers(*codes_and_orders):
    return [make_server(code, display_order=order) for code, order in codes_and_orders]


def test_each_open_incident_comes_once_with_its_servers_in_sidebar_order_and_its_newest_update(ctx):
    now = utcnow()
    nc3, nc1, nc2 = servers(("NC003", 2), ("NC001", 0), ("NC002", 1))
    named = make_post("Mail is slow", servers=(nc3, nc1, nc2), age=timedelta(hours=3))
    named.impact, named.affected_state = IncidentImpact.MAJOR, AffectedState.PARTIAL_OUTAGE
    db.session.commit()
    at = now - timedelta(hours=4)  # an update older than the post: the incident started then
    add_update(named, UpdateState.INVESTIGATING, "<p>Looking</p>", at)
    add_update(named, UpdateState.IDENTIFIED, "<p>Found it</p>", now - timedelta(minutes=5))
    alone = make_post("Phones drop calls", age=timedelta(hours=1))
    add_update(alone, UpdateState.MONITORING, "<p>Watching</p>", now - timedelta(minutes=2))
    resolved = make_post("Over now", servers=(nc1,), age=timedelta(hours=2))
    add_update(resolved, UpdateState.RESOLVED, "<p>Done</p>", now - timedelta(minutes=1))

    incidents, sent = statements_of(lambda: open_incidents(now))

    assert sent == 1
    assert [i.title for i in incidents] == ["Phones drop calls", "Mail is slow"]  # newest first
    phones, mail = incidents
    assert mail.server_codes == ("NC001", "NC002", "NC003") and phones.servers == ()
    assert [code for _id, code in mail.servers] == list(mail.server_codes)
    assert {server_id for server_id, _code in mail.servers} == {nc1.id, nc2.id, nc3.id}
    assert (mail.state, mail.latest_html, mail.latest_at) == (UpdateState.IDENTIFIED, "<p>Found it</p>",
                                                             now - timedelta(minutes=5))
    assert mail.started_at == at and phones.started_at == phones.published_at
    assert (mail.impact, mail.affected_state, phones.impact) == (IncidentImpact.MAJOR, AffectedState.PARTIAL_OUTAGE,
                                                                 None)


def test_updates_at_the_same_moment_are_told_apart_by_their_order_of_writing(ctx):
    now = utcnow()
    post = make_post("Tie", servers=tuple(servers(("NC001", 0))))
    at = now - timedelta(minutes=3)
    add_update(post, UpdateState.IDENTIFIED, "<p>first</p>", at)
    add_update(post, UpdateState.RESOLVED, "<p>second</p>", at)
    assert open_incidents(now) == []
    post_two = make_post("Tie again")
    add_update(post_two, UpdateState.RESOLVED, "<p>first</p>", at)
    add_update(post_two, UpdateState.MONITORING, "<p>second</p>", at)
    [incident] = open_incidents(now)
    assert (incident.title, incident.state, incident.latest_html) == ("Tie again", UpdateState.MONITORING,
                                                                    "<p>second</p>")


def test_the_older_of_two_equal_floors_holds_a_server_and_the_worse_one_wins(ctx):
    now = utcnow()
    [nc1] = servers(("NC001", 0))
    for title, hours, state in [("Older", 3, AffectedState.DEGRADED), ("Newer", 1, AffectedState.DEGRADED)]:
        post = make_post(title, servers=(nc1,), age=timedelta(hours=hours))
        post.affected_state = state
        db.session.commit()
        add_update(post, UpdateState.INVESTIGATING, "<p>x</p>", now - timedelta(minutes=hours))
    assert floors_by_server(open_incidents(now))[nc1.id].title == "Older"
    worse = make_post("Worse", servers=(nc1,), age=timedelta(minutes=30))
    worse.affected_state = AffectedState.MAJOR_OUTAGE
    db.session.commit()
    add_update(worse, UpdateState.INVESTIGATING, "<p>x</p>", now - timedelta(minutes=20))
    floor = floors_by_server(open_incidents(now))[nc1.id]
    assert (floor.title, floor.state) == ("Worse", AffectedState.MAJOR_OUTAGE)


def window(title, starts_in, hours, servers_=(), excerpt_body="<p>Planned work on the mail cluster.</p>"):
    post = make_post(title, excerpt_body, kind=PostKind.MAINTENANCE, servers=tuple(servers_),
                     age=timedelta(days=1))
    now = utcnow()
    post.starts_at, post.ends_at = now + starts_in, now + starts_in + timedelta(hours=hours)
    db.session.commit()
    return post


def test_open_windows_come_once_each_with_or_without_servers_and_a_finished_one_is_left_out(ctx):
    now = utcnow()
    nc2, nc1 = servers(("NC002", 1), ("NC001", 0))
    under_way = window("Router swap", -timedelta(hours=1), 3, (nc2, nc1))
    add_update(under_way, UpdateState.MONITORING, "<p>Halfway</p>", now - timedelta(minutes=10))
    window("Site-wide upgrade", timedelta(hours=5), 1)
    finished = window("Finished early", -timedelta(hours=1), 4, (nc1,))
    add_update(finished, UpdateState.RESOLVED, "<p>Done</p>", now - timedelta(minutes=1))
    window("A draft", timedelta(hours=1), 1).status = PostStatus.DRAFT
    db.session.commit()

    rows, sent = statements_of(lambda: open_windows(now))

    assert sent == 1
    assert [row.columns[1] for row in rows] == ["Router swap", "Site-wide upgrade"]
    assert rows[0].server_codes == ("NC001", "NC002") and rows[1].servers == ()
    assert not rows[1].has_update and rows[0].state is UpdateState.MONITORING


def test_the_summary_quotes_each_posts_newest_update_or_a_windows_excerpt(ctx):
    now = utcnow()
    [nc1] = servers(("NC001", 0))
    upgrade = window("Site-wide upgrade", timedelta(hours=5), 1, excerpt_body="<p>We upgrade   every server.</p>")
    incident = make_post("Mail is slow", servers=(nc1,))
    add_update(incident, UpdateState.IDENTIFIED, "<p>A <b>full</b>\n disk.</p>", now - timedelta(minutes=5))

    summary = summarise(now)

    [quoted] = summary.incidents
    assert (quoted.latest, quoted.latest_at, quoted.servers, quoted.state) == (
        "A full disk.", now - timedelta(minutes=5), ("NC001",), "identified")
    [upcoming] = summary.maintenances
    assert (upcoming.latest, upcoming.state, upcoming.servers) == ("We upgrade every server.", "scheduled", ())
    assert upcoming.latest_at == upgrade.published_at
