"""Plugins cannot stop the runner: probes that raise or hang, hooks that raise, checks without a plugin."""
from __future__ import annotations

import sys
import traceback

import pytest

from ninerstatus import hookimpl
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Tag
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, Status
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
