"""Fair scheduling: checks whose probes time out or run long cannot take the pool from healthy ones.

The runner is driven round by round (``tick`` with a stop already set, so it
never sleeps) on a clock the test moves; targets are real loopback servers,
one of which accepts and never answers until the test closes it.
"""
from __future__ import annotations

import math
import threading
from datetime import timedelta

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.probing import ErrorKind, Status
from ninerstatus.runner.claims import Claim
from ninerstatus.runner.lanes import Flight, Flights, Lane

from ..factories import make_server
from ..waiting import wait_until
from .conftest import START, add_check, reread
from .services import SilentServer


@pytest.fixture
def app_config(plugins_folder):
    """Two probes at a time in each lane, so a handful of checks fills one."""
    return {"PLUGINS_FOLDER": str(plugins_folder), "RUNNER_POOL_SIZE": 2, "RUNNER_SLOW_POOL_SIZE": 2,
            "RUNNER_SLOW_PROBE_SECONDS": 2}


@pytest.fixture
def silent():
    """A server that accepts and never answers; closing it lets the probes waiting on it end."""
    server = SilentServer()
    yield server
    server.close()


class Rounds:
    """Runs the runner's rounds (each claims what the lanes have room for, and records what has ended)."""

    def __init__(self, runner) -> None:
        self.runner = runner
        self.stopped = threading.Event()
        self.stopped.set()                  # so that a round never sleeps

    def once(self) -> None:
        self.runner.tick(self.stopped)
        reread()

    def until(self, condition) -> None:
        """Run rounds until ``condition()`` holds."""
        wait_until(lambda: self.once() or condition())


@pytest.fixture
def rounds(probe_runner) -> Rounds:
    return Rounds(probe_runner)


def stored(check: Check) -> Check:
    reread()
    return db.session.get(Check, check.id)


def held_by(runner) -> int:
    """How many checks ``runner`` has claimed and not yet recorded."""
    reread()
    return db.session.scalar(db.select(db.func.count(Check.id)).where(Check.lease_owner == runner.owner))


def results_of(checks: list[Check]) -> list[Status | None]:
    reread()
    return [db.session.get(Check, check.id).status if db.session.get(Check, check.id).result else None
            for check in checks]


def test_with_the_slow_lane_full_healthy_checks_are_still_claimed_and_run(probe_runner, rounds, greeter, silent):
    server = make_server()
    # Their last probes timed out: the runner knows them as slow.
    waiting = [add_check(server, silent.port, timeout_seconds=30, slow_lane=True) for _ in range(4)]
    healthy = [add_check(server, greeter.port, timeout_seconds=10) for _ in range(5)]
    rounds.until(lambda: results_of(healthy) == [Status.OK] * 5)
    # Two silent probes fill the slow lane; the other two silent checks wait for it, unclaimed,
    # while the five healthy ones went through the quick lane two at a time.
    assert len(silent.visits) == 2 and probe_runner.flights.room(Lane.SLOW) == 0
    assert sorted(stored(check).lease_owner is None for check in waiting) == [False, False, True, True]
    assert len(greeter.visits) == 5


def test_a_quick_probe_that_runs_long_moves_to_the_slow_lane_and_makes_room(probe_runner, rounds, clock, greeter,
                                                                            silent):
    server = make_server()
    falling_silent = [add_check(server, silent.port, timeout_seconds=30) for _ in range(2)]
    healthy = [add_check(server, greeter.port, due=START.replace(second=5), timeout_seconds=10) for _ in range(2)]
    rounds.until(lambda: len(silent.visits) == 2)
    assert probe_runner.flights.room(Lane.QUICK) == 0       # both taken by targets that fell silent
    clock.advance(5)                                         # they have run past the 2 s limit
    rounds.until(lambda: results_of(healthy) == [Status.OK] * 2)
    assert probe_runner.flights.room(Lane.SLOW) == 0 and probe_runner.flights.room(Lane.QUICK) == 2
    silent.close()                                           # they end now; having run 5 s, they stay slow
    rounds.until(lambda: None not in results_of(falling_silent))
    assert [stored(check).slow_lane for check in falling_silent] == [True, True]
    assert [stored(check).slow_lane for check in healthy] == [False, False]


def test_when_the_slow_lane_is_full_too_a_quick_probe_that_runs_long_keeps_its_place(probe_runner, rounds, clock,
                                                                                     silent):
    server = make_server()
    for _ in range(2):
        add_check(server, silent.port, timeout_seconds=30, slow_lane=True)
    for _ in range(3):
        add_check(server, silent.port, timeout_seconds=30)
    rounds.until(lambda: len(silent.visits) == 4)
    clock.advance(5)
    rounds.once()
    # The pool is bounded: nothing moves to the full slow lane, and nothing more starts.
    assert len(probe_runner.flights) == 4 and held_by(probe_runner) == 4
    assert probe_runner.flights.room(Lane.QUICK) == 0 and probe_runner.flights.room(Lane.SLOW) == 0


def test_a_check_whose_probe_timed_out_goes_to_the_slow_lane_and_back_once_it_answers(probe_runner, clock,
                                                                                      greeter, silent):
    check = add_check(make_server(), silent.port, timeout_seconds=0.2)
    probe_runner.run_due()
    assert stored(check).result.error_kind is ErrorKind.READ_TIMEOUT and stored(check).slow_lane
    answering = stored(check)                                # the service answers again
    answering.port, answering.timeout_seconds = greeter.port, 10
    db.session.commit()
    clock.advance(60)
    probe_runner.run_due()
    assert stored(check).result.status is Status.OK and not stored(check).slow_lane


def flight(check_id: int, lane: Lane = Lane.QUICK, deadline: float = math.inf) -> Flight:
    return Flight(Claim(check_id=check_id, due=START, timeout=1.0), lane, START, deadline=deadline)


def test_a_landed_probe_frees_its_place_and_one_given_up_is_not_taken_in_when_it_lands_after_all():
    flights = Flights({Lane.QUICK: 2, Lane.SLOW: 1}, timedelta(seconds=1))
    quick, hung, slow = flight(1), flight(2, deadline=10.0), flight(3, Lane.SLOW)
    for each in (quick, hung, slow):
        flights.add(each)
    assert (flights.room(Lane.QUICK), flights.room(Lane.SLOW), len(flights)) == (0, 0, 3)
    landing = threading.Thread(target=flights.land, args=(quick,))
    landing.start()
    landing.join()
    assert flights.room(Lane.QUICK) == 1 and flights.finished(0) == [quick]
    assert flights.overdue(10.0) == [hung] and flights.room(Lane.QUICK) == 2
    flights.land(hung)                      # its plugin returned after all: the runner gave up on it already
    assert flights.finished(0) == [] and len(flights) == 1
    flights.land(slow)
    assert flights.finished(5.0) == [slow] and flights.room(Lane.SLOW) == 1 and len(flights) == 0
