"""A server's state as the runner records it: only its enabled public checks count."""
from __future__ import annotations

from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, Post, Server, Visibility
from ninerstatus.runner.servers import stale_server_ids

from ..factories import make_server
from .conftest import add_check, reread
from .services import GreetingServer


def server_state(server: Server) -> str:
    reread()
    return db.session.get(Server, server.id).state


def test_a_server_partly_down_by_its_public_enabled_checks_is_recorded_so_and_only_those_are_in_its_draft(
        probe_runner, clock, greeter):
    silent = GreetingServer()
    silent.answering = False
    try:
        server = make_server("NC007", role="Mail server")
        add_check(server, greeter.port, label="SMTP greeting")
        add_check(server, silent.port, label="Staff-only port", visibility=Visibility.INTERNAL)
        add_check(server, silent.port, label="Switched off", enabled=False)
        for _ in range(3):
            probe_runner.run_due()
            clock.advance(60)
        assert server_state(server) == "ok"

        add_check(server, silent.port, label="IMAP greeting", due=clock())
        for _ in range(2):
            probe_runner.run_due()
            clock.advance(60)
        # One public enabled check of two fails: a partial outage, drafted as such.
        assert server_state(server) == "partial_outage"
        [draft] = db.session.scalars(db.select(Post).where(Post.origin == "probe")).all()
        assert "IMAP greeting" in draft.body_text
        assert "Staff-only port" not in draft.body_text and "SMTP greeting" not in draft.body_text
        assert draft.title == "NC007: Mail server partial outage"
        assert "partly down" in draft.body_text and draft.affected_state is AffectedState.PARTIAL_OUTAGE
    finally:
        silent.close()


def test_the_sweep_finds_servers_whose_counted_checks_changed_outside_the_runner(probe_runner, clock, greeter):
    server, other = make_server("NC001"), make_server("NC002")
    check = add_check(server, greeter.port)
    add_check(other, greeter.port)
    probe_runner.run_due()
    assert stale_server_ids({}, clock()) == []

    reread()
    db.session.get(type(check), check.id).visibility = Visibility.INTERNAL
    db.session.commit()
    # With no public check left, nothing vouches for the server: it is unknown, not "ok".
    assert stale_server_ids({}, clock()) == [server.id]
    probe_runner.sweep_servers(clock())
    assert server_state(server) == "unknown" and server_state(other) == "ok"
