"""A server's state as the runner records it: only its enabled public checks count."""
from __future__ import annotations

from ninerstatus.extensions import db
from ninerstatus.models import Post, Server, Visibility
from ninerstatus.runner.servers import stale_server_ids

from ..factories import make_server
from .conftest import add_check, reread
from .services import GreetingServer


def server_state(server: Server) -> str:
    reread()
    return db.session.get(Server, server.id).state


def test_a_server_is_as_bad_as_its_worst_public_enabled_check_and_only_those_are_in_its_draft(
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
        assert server_state(server) == "critical"
        [draft] = db.session.scalars(db.select(Post).where(Post.origin == "probe")).all()
        assert "IMAP greeting" in draft.body_text
        assert "Staff-only port" not in draft.body_text and "SMTP greeting" not in draft.body_text
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
