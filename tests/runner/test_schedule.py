"""Slot arithmetic: checks keep to their grid, skip what a dead runner missed, and start spread out."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.runner.schedule import MIN_INTERVAL_SECONDS, first_slot, next_slot

from .conftest import START


def test_a_late_probe_keeps_the_next_slot_on_the_grid():
    assert next_slot(START, 60, START + timedelta(seconds=0.7)) == START + timedelta(seconds=60)


def test_a_probe_on_time_is_next_due_one_interval_later():
    assert next_slot(START, 60, START) == START + timedelta(seconds=60)


def test_slots_missed_while_no_runner_ran_are_skipped_not_replayed():
    back = START + timedelta(seconds=10 * 60 + 25)
    assert next_slot(START, 60, back) == START + timedelta(seconds=11 * 60)


def test_the_next_slot_is_never_now_even_on_a_grid_point():
    now = START + timedelta(seconds=3 * 7.3)
    assert next_slot(START, 7.3, now) > now


def test_new_checks_start_spread_over_their_first_interval():
    offsets = sorted((first_slot(check_id, 60, START) - START).total_seconds() for check_id in range(1, 101))
    assert 0 <= offsets[0] and offsets[-1] < 60
    gaps = [b - a for a, b in zip(offsets, offsets[1:])]
    # A hundred checks in a minute: no two share a slot, none bunched, no long hole.
    assert min(gaps) > 0.1 and max(gaps) < 2.0


@pytest.mark.parametrize("interval", [0, -5, 0.0001])
def test_an_interval_below_the_minimum_is_held_to_it(interval):
    assert next_slot(START, interval, START) == START + timedelta(seconds=MIN_INTERVAL_SECONDS)
    assert START <= first_slot(7, interval, START) < START + timedelta(seconds=MIN_INTERVAL_SECONDS)
