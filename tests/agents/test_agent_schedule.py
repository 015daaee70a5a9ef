"""The agent's schedule: a probe that outlasts its check's interval skips the slots it overlaps, never the check;
a probe in flight when the agent stops is finished and its result kept."""
from __future__ import annotations

import threading

import pytest

from ninerstatus.agents.agent import Agent
from ninerstatus.agents.client import SiteClient
from ninerstatus.agents.spool import Spool
from ninerstatus.checktypes import CheckType
from ninerstatus.probing import ProbeResult, Status

from ..waiting import wait_until

CHECK_ID = 5


class SteppedClock:
    """A monotonic clock the test moves, counting how often it is read (each scheduling round reads it)."""

    def __init__(self) -> None:
        self.now, self.reads = 1000.0, 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def move_and_let_the_schedule_look(self, seconds: float) -> None:
        """Move the clock; return once the scheduler has finished a round that saw the new time."""
        self.now += seconds
        seen = self.reads
        wait_until(lambda: self.reads >= seen + 2, message="a scheduling round after the clock moved")


def document(interval: float) -> dict:
    return {"checks": [{"id": CHECK_ID, "type": "held", "interval_seconds": interval, "timeout_seconds": 120,
                        "target": {"host": "127.0.0.1", "port": 9, "family": "any", "tls": "none", "tls_name": None},
                        "tls_policy": {"verify": True, "ca_pem": None, "warn_days": 21, "crit_days": 7},
                        "settings": {}}]}


@pytest.fixture
def held_probe():
    """A check type whose first probe waits until ``release`` is set; ``started`` counts the probes begun."""
    release, started = threading.Event(), []

    def held(target, settings, ctx):
        started.append(target.port)
        if len(started) == 1:
            release.wait(60)
        return ProbeResult(Status.OK, f"probe {len(started)}")

    yield {"held": CheckType(name="held", label="Held", probe=held, default_port=9)}, release, started
    release.set()


def test_a_probe_outlasting_its_interval_skips_slots_and_the_check_is_probed_again_after_it(tmp_path, held_probe):
    check_types, release, started = held_probe
    clock = SteppedClock()
    agent = Agent(SiteClient("http://127.0.0.1:9/", "nsa1.abc.def"), Spool(tmp_path / "spool.sqlite", 100),
                  check_types, tmp_path, monotonic=clock)
    agent.assign(document(interval=1))
    scheduler = threading.Thread(target=agent._schedule, daemon=True)
    scheduler.start()
    try:
        clock.move_and_let_the_schedule_look(1)
        wait_until(lambda: len(started) == 1, message="the first probe")
        for _ in range(3):  # three slots fall due while the first probe still runs
            clock.move_and_let_the_schedule_look(1)
        assert len(started) == 1
        release.set()
        wait_until(lambda: agent.spool.backlog() == 1, message="the first probe's result")
        clock.move_and_let_the_schedule_look(1)
        wait_until(lambda: len(started) == 2, message="the check probed again once its long probe ended")
        wait_until(lambda: agent.spool.backlog() == 2, message="the second probe's result")
    finally:
        release.set()
        agent.stop.set()
        scheduler.join(timeout=30)


def test_stopping_finishes_the_probe_in_flight_and_keeps_its_result(tmp_path, held_probe):
    check_types, release, started = held_probe
    spool = Spool(tmp_path / "spool.sqlite", 100)
    spool.keep_assignments(document(interval=1))  # nothing listens on port 9: the agent probes what it kept
    agent = Agent(SiteClient("http://127.0.0.1:9/", "nsa1.abc.def"), spool, check_types, tmp_path)
    running = threading.Thread(target=agent.run, daemon=True)
    running.start()
    wait_until(lambda: started, message="the probe started")
    agent.stop.set()
    threading.Timer(0.5, release.set).start()  # the probe ends a while after the stop
    running.join(timeout=60)
    assert not running.is_alive()
    assert [result["summary"] for _, result in spool.next_batch(10).results] == ["probe 1"]
