"""Forgetting history on time: expired raw results and rollups go in small batches.

Each call deletes at most ``batch_size`` rows with one short statement per
tier, so a writer holds the database (SQLite has one writer at a time) for
milliseconds and the web never waits long. The runner calls it now and then
and commits after each call; while a call returns ``batch_size`` there is
more to delete.

A rollup row goes once its whole bucket is older than the tier's retention,
so a tier always covers its full retention period.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, tuple_

from ..checks.models import Check
from ..extensions import db
from .models import HistoryResult, HistoryRollup
from .tiers import RAW_RETENTION_KEY, TIERS, retention_cutoff


def prune_batch(now: datetime, batch_size: int = 1000) -> int:
    """Delete up to ``batch_size`` expired history rows (no commit); return how many went."""
    config = current_app.config
    deleted = 0
    raw_cutoff = retention_cutoff(config, RAW_RETENTION_KEY, now)
    if raw_cutoff is not None:
        deleted += _delete_raw_before(raw_cutoff, batch_size)
    for tier in TIERS:
        cutoff = retention_cutoff(config, tier.retention_key, now)
        if cutoff is not None and deleted < batch_size:
            deleted += _delete_buckets_ending_by(tier.width, cutoff, batch_size - deleted)
    return deleted


# Both deletes look rows up check by check ("check_id IN (all checks)"), so the
# database walks the primary key from each check's oldest row instead of
# scanning the table for old ones.

def _delete_raw_before(cutoff: int, limit: int) -> int:
    table = HistoryResult.__table__
    expired = (select(table.c.check_id, table.c.checked_at)
               .where(table.c.check_id.in_(select(Check.id)), table.c.checked_at < cutoff)
               .limit(limit))
    return db.session.execute(
        delete(table).where(tuple_(table.c.check_id, table.c.checked_at).in_(expired))).rowcount


def _delete_buckets_ending_by(width: int, cutoff: int, limit: int) -> int:
    table = HistoryRollup.__table__
    expired = (select(table.c.check_id, table.c.width, table.c.bucket_start)
               .where(table.c.check_id.in_(select(Check.id)), table.c.width == width,
                      table.c.bucket_start <= cutoff - width)
               .limit(limit))
    return db.session.execute(
        delete(table).where(tuple_(table.c.check_id, table.c.width, table.c.bucket_start).in_(expired))).rowcount
