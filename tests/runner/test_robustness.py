"""Plugins cannot stop the runner: probes that raise or hang, hooks that raise, checks without a plugin."""
from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from ninerstatus import hookimpl
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.raw import read_samples
from ninerstatus.models import Tag
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, Status
from ninerstatus.runner.loop import RECORD_ATTEMPTS
from ninerstatus.runner.models import StatusEvent

from ..factories import make_server
from ..waiting import wait_until
from .conftest import add_check, reread, running
from .services import GreetingServer


def stored(check: Check) -> Check:
    reread()
    return db.session.get(Check, check.id)


@pytest.fixture
def release_hung_probes(ctx):
    """Let the threads of abandoned probes end with the test."""
    yield
    get_plugins(ctx).manager.get_plugin("trouble").RELEASE.set()


def test_a_raising_probe_gives_its_check_unknown_and_the_others_are_probed(probe_runner, greeter):
    server = make_server()
    broken = add_check(server, 1, type_name="raises")
    healthy = add_check(server, greeter.port)
    assert probe_runner.run_due() == 2
    result = stored(broken).result
    assert result.status is Status.UNKNOWN and "RuntimeError: plugin bug in the probe" in result.summary
    assert stored(healthy).result.status is Status.OK


def hanging_now(ctx) -> int:
    """How many threads are inside the "hangs" check type's probe at this moment."""
    probe = get_plugins(ctx).manager.get_plugin("trouble").hanging_probe.__code__
    return sum(any(frame.f_code is probe for frame, _line in traceback.walk_stack(top))
               for top in sys._current_frames().values())


def test_a_hanging_probe_is_abandoned_at_its_deadline(ctx, probe_runner, greeter, release_hung_probes):
    server = make_server()
    hung = add_check(server, 1, type_name="hangs", timeout_seconds=0.3)
    healthy = add_check(server, greeter.port)
    assert probe_runner.run_due() == 2
    assert hanging_now(ctx) == 1   # the round was recorded without waiting for the plugin
    assert "did not finish within 0.8 s" in stored(hung).result.summary
    assert stored(healthy).result.status is Status.OK


def test_a_check_whose_plugin_is_gone_reports_a_configuration_error(probe_runner):
    check = add_check(make_server(), 1, type_name="vanished")
    probe_runner.run_due()
    result = stored(check).result
    assert result.status is Status.UNKNOWN and result.error_kind is ErrorKind.CONFIG_ERROR
    assert "no loaded plugin provides the check type 'vanished'" in result.summary


class BrokenHooks:
    """A notifier with bugs: it writes something, then raises."""

    @hookimpl
    def ninerstatus_probe_completed(self, check, result):
        db.session.add(Tag(name="written by a broken hook", slug="broken"))
        db.session.flush()
        raise RuntimeError("probe hook bug")

    @hookimpl
    def ninerstatus_status_changed(self, check, previous, current, result):
        raise RuntimeError("status hook bug")


def test_raising_hooks_are_logged_and_undone_alone(ctx, probe_runner, clock, greeter, hook_calls, caplog):
    get_plugins(ctx).manager.register(BrokenHooks())
    check = add_check(make_server(), greeter.port)
    probe_runner.run_due()
    greeter.answering = False
    for _ in range(2):
        clock.advance(60)
        probe_runner.run_due()
    assert stored(check).state == "critical"
    assert db.session.scalar(db.select(db.func.count()).select_from(StatusEvent)
                             .where(StatusEvent.check_id == check.id)) == 2
    assert db.session.scalars(db.select(Tag)).all() == []
    assert len(hook_calls.completed) == 3 and len(hook_calls.changed) == 2   # the other plugins still heard
    failures = [r.getMessage() for r in caplog.records if "failed; the runner carries on" in r.getMessage()]
    assert sorted(m.split()[0] for m in failures) == ["ninerstatus_probe_completed"] * 3 + ["ninerstatus_status_changed"] * 2


def test_the_running_loop_keeps_probing_past_broken_plugins(ctx, release_hung_probes):
    get_plugins(ctx).manager.register(BrokenHooks())
    greeter = GreetingServer()
    try:
        server = make_server()
        for check_type in ("raises", "hangs"):
            add_check(server, 1, type_name=check_type, due=None, interval_seconds=1, timeout_seconds=0.2)
        add_check(server, greeter.port, due=None, interval_seconds=1)
        with running(ctx):
            wait_until(lambda: len(greeter.visits) >= 3)
    finally:
        greeter.close()


@pytest.mark.parametrize("check_type, error", [("exits", "SystemExit: 3"), ("interrupts", "KeyboardInterrupt")])
def test_a_probe_raising_systemexit_or_keyboardinterrupt_is_an_error_at_once(probe_runner, greeter, check_type,
                                                                            error):
    # With a minute to run, a probe that waited out its timeout would say "did not finish".
    broken = add_check(make_server(), 1, type_name=check_type, timeout_seconds=60)
    healthy = add_check(broken.server, greeter.port, timeout_seconds=10)
    assert probe_runner.run_due() == 2
    result = stored(broken).result
    assert (result.status, result.error_kind, result.summary) == (Status.UNKNOWN, ErrorKind.INTERNAL,
                                                                  f"probe error: {error}")
    assert stored(healthy).result.status is Status.OK


def test_a_hung_plugin_holds_one_thread_per_check_and_its_check_says_why_it_is_not_probed(ctx, probe_runner, clock,
                                                                                         release_hung_probes):
    trouble = get_plugins(ctx).manager.get_plugin("trouble")
    hung = add_check(make_server(), 1, type_name="hangs", timeout_seconds=0.2)
    probe_runner.run_due()
    assert stored(hung).result.summary == ("the probe did not finish within 0.7 s; it still runs, and this check "
                                           "is not probed again until it returns")
    for _ in range(3):
        clock.advance(60)
        assert probe_runner.run_due() == 1
        result = stored(hung).result
        assert result.status is Status.UNKNOWN and result.checked_at == clock.now
        assert "still runs past its deadline; the plugin hangs" in result.summary
    assert len(trouble.HUNG_STARTED) == 1 and probe_runner.hung.count() == 1
    trouble.RELEASE.set()
    wait_until(lambda: probe_runner.hung.count() == 0)
    clock.advance(60)
    probe_runner.run_due()
    assert len(trouble.HUNG_STARTED) == 2       # probed again once the stuck probe returned
    assert stored(hung).result.summary == "probe returned NoneType, not a ProbeResult"


@contextmanager
def database_fails(table: str, column: str, times: int = 1) -> Iterator[list[str]]:
    """The next ``times`` updates of ``column`` in ``table`` fail as if the database went away."""
    failed: list[str] = []

    def fail(conn, cursor, statement, parameters, context, executemany) -> None:
        if len(failed) < times and statement.startswith(f"UPDATE {table} ") and f" {column}=" in statement:
            failed.append(statement)
            raise OperationalError(statement, parameters, Exception("server closed the connection unexpectedly"))

    event.listen(db.engine, "before_cursor_execute", fail)
    try:
        yield failed
    finally:
        event.remove(db.engine, "before_cursor_execute", fail)


def held_by(check: Check) -> str | None:
    return stored(check).lease_owner


def test_results_the_database_refused_are_recorded_in_the_next_round(probe_runner, greeter):
    check = add_check(make_server(), greeter.port, timeout_seconds=10)
    with database_fails("checks", "last_result") as failed, pytest.raises(OperationalError):
        probe_runner.run_due()
    assert failed
    assert stored(check).result is None and held_by(check) == probe_runner.owner
    assert probe_runner.run_due() == 0          # nothing is due; what the last round probed is recorded
    assert stored(check).result.status is Status.OK and held_by(check) is None
    assert len(greeter.visits) == 1
    assert len(read_samples()) == 1


def test_results_the_database_keeps_refusing_are_given_up_and_their_checks_probed_in_the_next_slot(
        probe_runner, clock, greeter, caplog):
    check = add_check(make_server(), greeter.port, timeout_seconds=10)
    with database_fails("checks", "last_result", times=RECORD_ATTEMPTS) as failed:
        for _ in range(RECORD_ATTEMPTS):
            with pytest.raises(OperationalError):
                probe_runner.run_due()
    assert len(failed) == RECORD_ATTEMPTS
    assert "gave up recording 1 probe results after 5 attempts" in caplog.text
    assert probe_runner.run_due() == 0 and stored(check).result is None
    clock.advance(60)                            # the next slot; the lease has lapsed by then
    assert probe_runner.run_due() == 1
    assert stored(check).result.status is Status.OK and len(greeter.visits) == 2


def test_a_batch_recorded_although_the_database_reported_a_failure_counts_once(probe_runner, greeter):
    greeter.answering = False                   # every probe fails: two in a row make the check critical
    check = add_check(make_server(), greeter.port, timeout_seconds=10, failures_before_down=2)
    results_written: list[str] = []
    failed: list[str] = []

    def note_results(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("UPDATE checks ") and " last_result=" in statement:
            results_written.append(statement)

    def lose_the_acknowledgement(conn) -> None:
        if results_written and not failed:      # the results' transaction: commit it, then report a failure
            failed.append("commit")
            conn.connection.dbapi_connection.commit()
            raise OperationalError("COMMIT", {}, Exception("connection lost after the commit"))

    event.listen(db.engine, "before_cursor_execute", note_results)
    event.listen(db.engine, "commit", lose_the_acknowledgement)
    try:
        with pytest.raises(OperationalError):
            probe_runner.run_due()
    finally:
        event.remove(db.engine, "before_cursor_execute", note_results)
        event.remove(db.engine, "commit", lose_the_acknowledgement)
    assert failed and stored(check).result is not None
    probe_runner.run_due()                      # the kept batch is offered again and found recorded
    assert (stored(check).consecutive_failures, stored(check).state) == (1, "unknown")
    assert len(read_samples()) == 1
