"""Pruning per-location history: raw rows as raw results, daily rows as the daily tier, exactly."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ninerstatus.extensions import db
from ninerstatus.history.located import location_samples, record_location_samples
from ninerstatus.history.models import LocationDailyTally, LocationRawResults
from ninerstatus.history.retention import prune_batch
from ninerstatus.history.rollup import Sample
from ninerstatus.probing import Status

from ..agents.conftest import add_location
from ..factories import make_server
from .conftest import add_check
from .test_retention import NOW, prune_all

DAY = 86400


@pytest.fixture
def app_config():
    return {"HISTORY_RAW_DAYS": 2, "HISTORY_5MIN_DAYS": 5, "HISTORY_HOURLY_DAYS": 20, "HISTORY_DAILY_DAYS": None}


@pytest.fixture
def written(ctx):
    """Two checks seen from two locations, one OK result an hour each for the 40 days before NOW."""
    server = make_server("NC036")
    checks = [add_check(server, label).id for label in ("SMTP", "IMAP")]
    locations = [add_location(name, checks)[0].id for name in ("Lusaka", "Frankfurt")]
    start, end = int((NOW - timedelta(days=40)).timestamp()), int(NOW.timestamp())
    record_location_samples((location, Sample(check, moment, Status.OK, 1000, None, False))
                            for check in checks for location in locations for moment in range(start, end, 3600))
    db.session.commit()
    return checks, locations


def located_counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(LocationRawResults)),
            db.session.scalar(select(func.count()).select_from(LocationDailyTally)))


def test_raw_rows_keep_exactly_the_raw_retention_and_daily_rows_stay(written):
    checks, locations = written
    _, daily_before = located_counts()
    prune_all(batch_size=100)
    now = int(NOW.timestamp())
    for check in checks:
        seen = location_samples(check, 0, now + 1)
        assert set(seen) == set(locations)
        # The first hour kept is the one that holds the cutoff (NOW is on the hour): to the second.
        assert all(samples[0].checked_at == now - 2 * DAY for samples in seen.values())
        assert all(len(samples) == 48 for samples in seen.values())
    assert located_counts() == (2 * 2 * 48, daily_before)


def test_daily_rows_keep_exactly_the_daily_retention_when_one_is_set(written, app):
    app.config["HISTORY_DAILY_DAYS"] = 30
    prune_all(batch_size=1000)
    cutoff = int((NOW - timedelta(days=30)).timestamp())
    starts = db.session.scalars(select(LocationDailyTally.day_start).distinct().order_by(
        LocationDailyTally.day_start)).all()
    # A day goes once all of it is older than the cutoff: the day holding the cutoff stays.
    assert starts[0] == cutoff - cutoff % DAY
    assert starts[-1] == int(NOW.timestamp()) // DAY * DAY
    assert located_counts()[1] == 2 * 2 * len(starts) and len(starts) == 31


def test_located_rows_are_pruned_within_the_batch_size(written):
    raw_before, _ = located_counts()
    batches = prune_all(batch_size=50)
    assert located_counts()[0] == 2 * 2 * 48
    assert sum(batches) == raw_before - 2 * 2 * 48
    assert max(batches) == 50 and len(batches) == -(-sum(batches) // 50)


def test_nothing_expired_deletes_nothing(written):
    assert prune_batch(NOW - timedelta(days=38), batch_size=1000) == 0
