"""Uptime read from the tiers equals uptime counted from every raw result, across tier boundaries."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from ninerstatus.extensions import db
from ninerstatus.history.raw import read_samples
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.rollup import Sample, epoch_seconds, uptime_ratio
from ninerstatus.history.uptime import WINDOWS, plan_window, uptimes, windows_uptime
from ninerstatus.probing import Status

from ..factories import make_server
from .conftest import add_check, at

#: Ragged moments: none on a 5-minute, hourly or daily boundary, so every window has edges in every tier.
NOWS = [at("2026-03-10 12:02:31"), at("2026-03-10 23:58:07"), at("2026-03-11 00:04:59")]


@pytest.fixture
def app_config():
    """Keep every tier for good, so raw results remain to check each window against."""
    return {"HISTORY_RAW_DAYS": None, "HISTORY_5MIN_DAYS": None, "HISTORY_HOURLY_DAYS": None}


@pytest.fixture(params=NOWS, ids=str)
def now(request):
    return request.param


@pytest.fixture
def checks(ctx, now):
    """Two checks of one server with 100 days of mixed results up to ``now``, a few minutes apart at random."""
    server = make_server("NC036")
    found = [add_check(server, "SMTP"), add_check(server, "IMAP")]
    rng = random.Random(7)
    samples = []
    for check in found:
        moment = epoch_seconds(now - timedelta(days=100))
        while moment <= epoch_seconds(now):
            status = rng.choices(list(Status), weights=(90, 4, 4, 2))[0]
            samples.append(Sample(check.id, moment, status, rng.randrange(1000, 90_000), None, rng.random() < 0.03))
            moment += rng.randrange(60, 1500)
    record_samples(samples)
    db.session.commit()
    return found


def raw_uptime(check_ids: list[int], start: int, end: int) -> float | None:
    """The straightforward uptime: every raw result from ``start`` up to ``end``, counted one by one."""
    counted = [sample.status for sample in read_samples(check_ids, start, end) if not sample.in_maintenance]
    return uptime_ratio(*(counted.count(status) for status in (Status.OK, Status.WARNING, Status.CRITICAL)))


def ratios(windows: dict) -> dict:
    return {key: window.uptime for key, window in windows.items()}


def test_every_window_equals_the_raw_count(checks, app, now):
    ids = [check.id for check in checks]
    # Each window really starts in raw results and ends in daily rows (with 5-minute and hourly ones
    # between, but for a start a few minutes before midnight).
    for length in WINDOWS.values():
        plan = plan_window(epoch_seconds(now - length), now, app.config)
        assert plan[0].width is None and plan[-1].width == 86400 and len(plan) in (2, 4)
    expected = {key: raw_uptime(ids, epoch_seconds(now - length), epoch_seconds(now) + 1)
                for key, length in WINDOWS.items()}
    assert ratios(uptimes(ids, now)) == pytest.approx(expected, abs=0, rel=1e-12)
    assert ratios(uptimes(ids[:1], now)) == pytest.approx(
        {key: raw_uptime(ids[:1], epoch_seconds(now - length), epoch_seconds(now) + 1)
         for key, length in WINDOWS.items()}, abs=0, rel=1e-12)


def test_windows_of_any_length_equal_the_raw_count_and_keep_their_order(checks, now):
    ids = [check.id for check in checks]
    lengths = [timedelta(minutes=3), timedelta(hours=5, minutes=1), timedelta(days=2, seconds=17),
               timedelta(days=61, hours=3), timedelta(days=400)]
    found = windows_uptime(ids, [now - length for length in lengths], now)
    assert found == pytest.approx([raw_uptime(ids, epoch_seconds(now - length), epoch_seconds(now) + 1)
                                   for length in lengths], abs=0, rel=1e-12)
    assert windows_uptime([], [now - length for length in lengths], now) == [None] * len(lengths)
