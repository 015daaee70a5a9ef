"""Flap damping: a check's confirmed state changes only after enough results in a row agree."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.notifications.models import Notification
from ninerstatus.probing import ProbeResult, Status
from ninerstatus.runner.damping import apply_result
from ninerstatus.runner.models import StatusEvent

from ..factories import make_server
from .conftest import START, add_check, reread

OK, WARN, CRIT, UNKNOWN = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN


def judged_check(state: str = "ok", failures_before_down: int = 2, successes_before_up: int = 1) -> Check:
    return Check(state=state, state_since=START, consecutive_failures=0, consecutive_successes=0,
                 failures_before_down=failures_before_down, successes_before_up=successes_before_up)


def feed(check: Check, statuses) -> list[tuple[str | None, str]]:
    changes = []
    for n, status in enumerate(statuses):
        change = apply_result(check, ProbeResult(status, "x", checked_at=START + timedelta(minutes=n)))
        if change:
            changes.append((change.previous, change.current))
    return changes


@pytest.mark.parametrize("statuses, state", [
    ((CRIT,), "ok"),
    ((CRIT, CRIT), "critical"),
    ((CRIT, OK, CRIT), "ok"),
    ((WARN, CRIT), "critical"),
    ((CRIT, CRIT, WARN), "warning"),
    ((UNKNOWN, CRIT), "critical"),
    ((UNKNOWN, UNKNOWN), "unknown"),
])
def test_down_takes_failures_before_down_non_ok_results_in_a_row(statuses, state):
    check = judged_check("ok")
    feed(check, statuses)
    assert check.state == state


def test_up_again_takes_successes_before_up_ok_results_in_a_row():
    check = judged_check("critical", successes_before_up=3)
    assert feed(check, (OK, OK, CRIT, OK, OK)) == []
    assert check.state == "critical"
    assert feed(check, (OK,)) == [("critical", "ok")]


def test_the_change_dates_from_the_probe_that_confirmed_it():
    check = judged_check("ok")
    feed(check, (CRIT, CRIT))
    assert check.state_since == START + timedelta(minutes=1)


def test_a_check_never_judged_starts_unknown_and_its_first_change_has_no_previous_state():
    check = Check(state="unknown", state_since=None, consecutive_failures=0, consecutive_successes=0,
                  failures_before_down=2, successes_before_up=1)
    assert feed(check, (CRIT,)) == []
    assert check.state == "unknown" and check.state_since == START  # judged from its first probe on
    assert feed(check, (CRIT,)) == [("unknown", "critical")]

    fresh = Check(state="unknown", state_since=None, consecutive_failures=0, consecutive_successes=0,
                  failures_before_down=2, successes_before_up=1)
    assert feed(fresh, (OK,)) == [(None, "ok")]


def test_the_runner_writes_an_event_and_calls_the_hooks_only_for_confirmed_changes(
        probe_runner, clock, greeter, hook_calls):
    check = add_check(make_server(), greeter.port)

    probe_runner.run_due()                      # OK: confirmed at once (successes_before_up = 1)
    greeter.answering = False
    clock.advance(60)
    probe_runner.run_due()                      # one failure: not yet
    reread()
    assert db.session.get(Check, check.id).state == "ok"
    clock.advance(60)
    probe_runner.run_due()                      # two in a row: down

    reread()
    assert db.session.get(Check, check.id).state == "critical"
    events = db.session.scalars(db.select(StatusEvent).where(StatusEvent.check_id == check.id)
                                .order_by(StatusEvent.id)).all()
    assert [(e.previous, e.current) for e in events] == [(None, "ok"), ("ok", "critical")]
    assert events[1].occurred_at == START + timedelta(seconds=120)
    assert events[1].summary == "the server closed the connection"
    assert hook_calls.completed == [(check.id, OK), (check.id, CRIT), (check.id, CRIT)]
    assert hook_calls.changed == [(check.id, None, "ok"), (check.id, "ok", "critical")]


@pytest.fixture
def app_config(plugins_folder):
    return {"PLUGINS_FOLDER": str(plugins_folder), "NOTIFY_WEBHOOK_URLS": ["http://127.0.0.1:9/status"]}


def test_a_confirmed_change_queues_the_notifiers_messages_with_it(probe_runner, clock, greeter):
    check = add_check(make_server(), greeter.port)
    probe_runner.run_due()
    greeter.answering = False
    clock.advance(60)
    probe_runner.run_due()
    reread()
    assert db.session.scalars(db.select(Notification)).all() == []   # one failure is not news
    clock.advance(60)
    probe_runner.run_due()
    reread()
    [message] = db.session.scalars(db.select(Notification)).all()
    assert message.channel == "webhook" and message.payload["url"] == "http://127.0.0.1:9/status"
    change = message.payload["change"]
    assert (change["check"]["id"], change["current"]) == (check.id, "critical")
