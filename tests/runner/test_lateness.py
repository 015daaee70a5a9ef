"""The runner says when probes start late: in its heartbeat for staff, and in its log at most once a minute."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from ninerstatus.extensions import db
from ninerstatus.runner.models import RunnerHeartbeat

from ..factories import make_server
from .conftest import START, add_check, reread


@pytest.fixture
def next_round(probe_runner):
    """Run one round of the runner (its heartbeat first, when due) and wait for the probes it started."""
    stopped = threading.Event()
    stopped.set()

    def run() -> None:
        probe_runner.tick(stopped)
        probe_runner.run_due()
    return run


def heartbeat(runner) -> tuple:
    reread()
    beat = db.session.get(RunnerHeartbeat, runner.owner)
    return (beat.lag_window_seconds, beat.probes, beat.late_probes, beat.late_slow_probes, beat.lag_p99_seconds,
            beat.lag_max_seconds)


def test_each_heartbeat_says_how_late_the_probes_since_the_previous_one_started(probe_runner, clock, next_round,
                                                                               greeter):
    server = make_server()
    add_check(server, greeter.port)                                       # due now
    add_check(server, greeter.port, due=START - timedelta(seconds=3))
    add_check(server, greeter.port, due=START - timedelta(seconds=8), slow_lane=True)
    assert heartbeat(probe_runner) == (0, 0, 0, 0, None, None)            # the runner has just started
    assert probe_runner.run_due() == 3
    clock.advance(10)
    next_round()
    assert heartbeat(probe_runner) == (10, 3, 2, 1, 8, 8)
    clock.advance(10)
    next_round()
    assert heartbeat(probe_runner) == (10, 0, 0, 0, None, None)


def test_late_probes_are_logged_at_most_once_a_minute(probe_runner, clock, next_round, greeter, caplog):
    server = make_server()
    for lag in (3, 8):     # every 10 s, each 3 or 8 s after its slot
        add_check(server, greeter.port, due=START - timedelta(seconds=lag), interval_seconds=10)

    def warnings() -> list[str]:
        return [record.getMessage() for record in caplog.records if "probes ran late" in record.getMessage()]

    probe_runner.run_due()
    clock.advance(10)
    next_round()
    assert warnings() == ["probes ran late: 2 of 2 started over 1 s after their slot in the last 10 s (worst 8.0 s "
                          "late): 2 in the quick lane (RUNNER_POOL_SIZE=128 probes at a time). A lane that stays full "
                          "needs a larger setting; checks whose probes time out or run long use the slow lane."]
    for _ in range(5):
        clock.advance(10)
        next_round()
    assert len(warnings()) == 1
    clock.advance(10)
    next_round()
    assert len(warnings()) == 2
    assert warnings()[1].startswith("probes ran late: 12 of 12 started over 1 s after their slot in the last 60 s")
