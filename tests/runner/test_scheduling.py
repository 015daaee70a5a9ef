"""The runner's schedule with a clock the test moves: intervals kept, no bursts, new checks spread."""
from __future__ import annotations

from datetime import timedelta

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db

from ..factories import make_server
from .conftest import START, add_check, reread


def test_a_check_is_probed_once_per_interval_on_its_own_grid(probe_runner, clock, greeter):
    check = add_check(make_server(), greeter.port, interval_seconds=60)
    for minute in range(5):
        # The runner comes round a little late each time; the grid does not drift.
        clock.now = START + timedelta(minutes=minute, seconds=0.4 * minute)
        assert probe_runner.run_due() == 1
        assert probe_runner.run_due() == 0
        reread()
        assert db.session.get(Check, check.id).next_due_at == START + timedelta(minutes=minute + 1)
    assert len(greeter.visits) == 5


def test_nothing_is_probed_before_its_slot(probe_runner, clock, greeter):
    add_check(make_server(), greeter.port, interval_seconds=60)
    probe_runner.run_due()
    clock.advance(59.9)
    assert probe_runner.run_due() == 0
    clock.advance(0.1)
    assert probe_runner.run_due() == 1


def test_a_runner_back_after_downtime_probes_once_and_returns_to_the_grid(probe_runner, clock, greeter):
    check = add_check(make_server(), greeter.port, interval_seconds=60)
    probe_runner.run_due()
    clock.now = START + timedelta(hours=2, seconds=25)
    assert probe_runner.run_due() == 1
    assert probe_runner.run_due() == 0
    reread()
    assert db.session.get(Check, check.id).next_due_at == START + timedelta(hours=2, minutes=1)
    assert len(greeter.visits) == 2


def test_new_checks_are_spread_over_their_first_interval(probe_runner, clock, greeter):
    server = make_server()
    checks = [add_check(server, greeter.port, due=None, interval_seconds=60) for _ in range(12)]
    first_probes = {}
    for second in range(61):
        clock.now = START + timedelta(seconds=second)
        probe_runner.run_due()
        reread()
        for check in db.session.scalars(db.select(Check)):
            if check.last_checked_at is not None:
                first_probes.setdefault(check.id, check.last_checked_at)
    assert sorted(first_probes) == sorted(c.id for c in checks)
    # Each probed once in its first minute, no two in the same second.
    assert len(greeter.visits) == 12
    assert len(set(first_probes.values())) == 12


def test_disabled_checks_are_not_probed(probe_runner, greeter):
    add_check(make_server(), greeter.port, enabled=False)
    assert probe_runner.run_due() == 0
    assert greeter.visits == []
