"""Incidents drafted by the probes: a server stops answering, a draft appears; it recovers, "resolved" is suggested."""
from __future__ import annotations

import socket
from datetime import timedelta

from markupsafe import escape

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, IncidentImpact, Post, PostKind, PostStatus, Server, Visibility
from ninerstatus.probing import ErrorKind, ProbeResult, Status
from ninerstatus.runner.incidents import PLAIN_WORDS, incident_body
from ninerstatus.runner.models import StatusEvent

from ..factories import make_server
from .conftest import START, add_check, reread


def probe_for(probe_runner, clock, minutes: int) -> None:
    for _ in range(minutes):
        probe_runner.run_due()
        clock.advance(60)


def drafts() -> list[Post]:
    reread()
    return db.session.scalars(db.select(Post).where(Post.origin == "probe")).all()


def test_a_server_that_stops_answering_gets_a_draft_incident_and_recovery_suggests_resolved(
        probe_runner, clock, greeter, client):
    server = make_server("NC036", role="Mail server", city="Amsterdam", country="Netherlands")
    check = add_check(server, greeter.port, label="SMTP greeting")
    probe_for(probe_runner, clock, 2)
    assert drafts() == []

    greeter.answering = False
    probe_runner.run_due()
    assert drafts() == []                     # one failure is not an outage yet
    clock.advance(60)
    probe_runner.run_due()                    # the second one is; confirmed at 12:03

    [post] = drafts()
    server = db.session.get(Server, server.id)
    assert (post.kind, post.status, post.published_at) == (PostKind.INCIDENT, PostStatus.DRAFT, None)
    assert post.title == "NC036: Mail server outage"
    assert post.servers == [server] and server.incident_post_id == post.id
    # Its only check fails: publishing it as drafted declares a major outage of the server.
    assert (post.impact, post.affected_state) == (IncidentImpact.MAJOR, AffectedState.MAJOR_OUTAGE)
    assert (server.state, server.state_since) == ("critical", START + timedelta(minutes=3))
    text = post.body_text
    assert "NC036" in text and "Mail server, Amsterdam, Netherlands" in text
    assert "down since 2 March 2026 12:03:00 +0000" in text
    assert "SMTP greeting (Banner): outage since 2 March 2026 12:03:00 +0000; it breaks off the conversation" in text
    # Staff read the address, the error kind and what the server said beside the draft, not in it.
    assert "127.0.0.1" not in text and str(greeter.port) not in text
    assert "protocol_error" not in text and "closed the connection" not in text
    # Visitors see none of it until staff publish it.
    assert post.slug not in client.get("/").get_data(as_text=True)
    assert client.get(f"/posts/{post.slug}").status_code == 404

    greeter.answering = True
    clock.advance(60)
    probe_runner.run_due()

    [post] = drafts()
    server = db.session.get(Server, server.id)
    assert post.status is PostStatus.DRAFT and post.updates == []
    assert post.pending_update_state == "resolved"
    assert post.pending_update_html == (
        "<p><strong>NC036</strong> is operational again since "
        "2 March 2026 12:04:00 +0000: our monitoring sees all its services working.</p>")
    assert server.incident_post_id is None and server.state == "ok"
    events = db.session.scalars(db.select(StatusEvent).where(StatusEvent.server_id == server.id)
                                .order_by(StatusEvent.id)).all()
    assert [(e.previous, e.current) for e in events] == [(None, "ok"), ("ok", "critical"), ("critical", "ok")]
    assert events[1].summary == "SMTP greeting: the server closed the connection"
    assert db.session.get(Check, check.id).state == "ok"


def test_a_refused_connection_is_drafted_in_plain_words_without_staff_only_details(probe_runner, clock):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()                            # nothing listens there: connections are refused
    server = make_server("NC036", role="Mail server", city="Amsterdam", country="Netherlands")
    add_check(server, port, type_name="smtp", label="Outgoing mail")
    probe_for(probe_runner, clock, 2)

    [post] = drafts()
    assert post.body_html == (
        "<p>Our monitoring shows <strong>NC036</strong> (Mail server, Amsterdam, Netherlands) "
        "down since 2 March 2026 12:01:00 +0000.</p><h3>Affected services</h3><ul>"
        "<li><strong>Outgoing mail</strong> (SMTP): outage since 2 March 2026 12:01:00 +0000; "
        "it refuses connections.</li></ul>")
    for staff_only in (f"127.0.0.1:{port}", "connect_refused", "could not connect", "review before publishing"):
        assert staff_only not in post.body_html


def test_every_way_of_failing_has_plain_words_for_visitors():
    counted = set(ErrorKind) - {ErrorKind.CONFIG_ERROR, ErrorKind.INTERNAL}   # both are UNKNOWN, never downtime
    assert set(PLAIN_WORDS) == counted
    assert not any("_" in words or ":" in words for words in PLAIN_WORDS.values())


def test_failing_again_before_staff_publish_the_resolution_reopens_the_same_draft(probe_runner, clock, greeter):
    server = make_server("NC036")
    add_check(server, greeter.port)
    probe_for(probe_runner, clock, 1)
    greeter.answering = False
    probe_for(probe_runner, clock, 2)
    greeter.answering = True
    probe_for(probe_runner, clock, 1)
    greeter.answering = False
    probe_for(probe_runner, clock, 2)

    [post] = drafts()
    assert post.pending_update_state is None and post.pending_update_html is None
    assert db.session.get(Server, server.id).incident_post_id == post.id


def test_an_internal_server_going_down_drafts_nothing(probe_runner, clock, greeter):
    server = make_server("NC023", Visibility.INTERNAL)
    add_check(server, greeter.port)
    greeter.answering = False
    probe_for(probe_runner, clock, 3)
    assert drafts() == []
    assert db.session.get(Server, server.id).state == "critical"


def test_an_unknown_state_is_not_downtime_and_drafts_nothing(probe_runner, clock):
    server = make_server("NC036")
    add_check(server, 1, type_name="raises")
    probe_for(probe_runner, clock, 3)
    assert drafts() == []
    assert db.session.get(Server, server.id).state == "unknown"


def test_names_are_escaped_in_the_draft_and_what_the_server_said_stays_out(ctx):
    server = make_server("NC036", role="Mail <b>server</b>")
    check = Check(type_name="smtp", label="<img src=x onerror=alert(1)>", host="127.0.0.1",
                  port=587, settings={}, state="critical", state_since=START)
    check.record(ProbeResult(Status.CRITICAL, '<script>alert("banner")</script>',
                             error_kind=ErrorKind.UNEXPECTED_REPLY, checked_at=START))
    post = Post(title="t", slug="t")
    post.set_body(incident_body(server, "down", [check], START))
    assert "<script" not in post.body_html and "<img" not in post.body_html and "<b>" not in post.body_html
    assert str(escape("<img src=x onerror=alert(1)>")) in post.body_html
    assert "banner" not in post.body_html and "it answers with an error" in post.body_html
