"""Probes claimed ahead of their slots start on the ticks of the start grid, so that a tick's probes start together."""
from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest

from ninerstatus.runner import loop
from ninerstatus.runner.loop import START_GRID_SECONDS, start_tick

from ..factories import make_server
from .conftest import START, add_check


@pytest.mark.parametrize("moment", [0.0, 0.01, START_GRID_SECONDS, 3 * START_GRID_SECONDS, 0.7, 12345.6789,
                                    1e6 + START_GRID_SECONDS - 1e-7])
def test_a_start_tick_is_the_first_tick_of_the_grid_at_or_after_the_moment(moment):
    tick = start_tick(moment)
    assert moment <= tick < moment + START_GRID_SECONDS + 1e-9  # a float a hair past a tick may take the next
    assert tick / START_GRID_SECONDS == pytest.approx(round(tick / START_GRID_SECONDS), abs=1e-6)


def test_a_probe_claimed_ahead_of_its_slot_waits_for_the_first_tick_after_it(probe_runner, clock, greeter,
                                                                            monkeypatch):
    add_check(make_server(), greeter.port)  # due at START
    clock.now = START - timedelta(seconds=0.2)
    # The probe's thread reads this module's monotonic clock and sleeps with it: one that stands still,
    # and a sleep that notes how long it was asked for.
    slept = []
    monkeypatch.setattr(loop, "time", SimpleNamespace(monotonic=lambda: 100.01, sleep=slept.append))
    stopped = threading.Event()
    stopped.set()
    probe_runner.tick(stopped)
    probe_runner.run_due()
    assert len(greeter.visits) == 1
    assert slept == [pytest.approx(start_tick(100.01 + 0.2) - 100.01)]
    assert 100.01 + slept[0] == pytest.approx(100.25)
