"""Pruning: each tier forgets on its own schedule, a small batch at a time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ninerstatus.extensions import db
from ninerstatus.history.models import HistoryRollup, RawResults, TallyBlock
from ninerstatus.history.raw import read_samples
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.retention import prune_batch
from ninerstatus.history.rollup import Sample
from ninerstatus.probing import Status

from ..factories import make_server
from .conftest import add_check, at, stored_tallies

NOW = at("2027-03-01 12:00")


@pytest.fixture
def app_config():
    return {"HISTORY_RAW_DAYS": 2, "HISTORY_5MIN_DAYS": 5, "HISTORY_HOURLY_DAYS": 20, "HISTORY_DAILY_DAYS": None}


def write_hourly_results(check_ids, days: int) -> None:
    """One OK result per check at the start of every hour of the ``days`` days before NOW."""
    start = int((NOW - timedelta(days=days)).timestamp())
    record_samples(Sample(check_id, moment, Status.OK, 1000, None, False)
                   for check_id in check_ids for moment in range(start, int(NOW.timestamp()), 3600))
    db.session.commit()


def oldest(width: int | None) -> int:
    if width is None:
        return min(sample.checked_at for sample in read_samples())
    return min(bucket for _, bucket, _ in stored_tallies(width))


def count(width: int | None) -> int:
    """Rows: an hour of a check's raw results is one, and so is a block of a packed tier."""
    if width is None:
        return db.session.scalar(select(func.count()).select_from(RawResults))
    if width in (300, 3600):
        return db.session.scalar(select(func.count()).select_from(TallyBlock).where(TallyBlock.width == width))
    return db.session.scalar(select(func.count()).select_from(HistoryRollup).where(HistoryRollup.width == width))


def prune_all(batch_size: int) -> list[int]:
    batches = []
    while (deleted := prune_batch(NOW, batch_size=batch_size)):
        db.session.commit()
        batches.append(deleted)
    return batches


def test_each_tier_keeps_exactly_its_retention(ctx):
    checks = [add_check(make_server(code)).id for code in ("NC036", "NC037")]
    write_hourly_results(checks, days=40)
    daily_before = count(86400)
    prune_all(batch_size=100)
    now = int(NOW.timestamp())
    assert oldest(None) == now - 2 * 86400
    # A bucket goes only when all of its block has expired: the block straddling the cutoff stays,
    # a day of hourly buckets from its midnight.
    assert oldest(300) == now - 5 * 86400
    assert oldest(3600) == now - 20 * 86400 - 12 * 3600
    # Rows: one per check and hour of raw results or of 5-minute buckets, one per check and day of hourly ones.
    assert count(None) == 2 * 48 and count(300) == 2 * 5 * 24 and count(3600) == 2 * 21
    assert len(stored_tallies(3600)) == 2 * (20 * 24 + 12)
    assert count(86400) == daily_before


def test_pruning_goes_in_batches_no_larger_than_asked(ctx):
    checks = [add_check(make_server(code)).id for code in ("NC036", "NC037", "NC038")]
    write_hourly_results(checks, days=10)
    expired = count(None) - 3 * 48 + count(300) - 3 * 5 * 24
    batches = prune_all(batch_size=50)
    assert sum(batches) == expired
    assert max(batches) == 50 and len(batches) == -(-expired // 50)


def test_a_daily_retention_when_configured_prunes_daily_rows_too(ctx, app):
    app.config["HISTORY_DAILY_DAYS"] = 30
    write_hourly_results([add_check(make_server()).id], days=40)
    prune_all(batch_size=1000)
    assert oldest(86400) == int((NOW - timedelta(days=30)).timestamp()) - 12 * 3600


def test_nothing_expired_deletes_nothing(ctx):
    write_hourly_results([add_check(make_server()).id], days=1)
    assert prune_batch(NOW, batch_size=1000) == 0
