"""Forgetting history on time: expired raw results and rollups go in small batches.

Each call deletes at most ``batch_size`` rows with one short statement per
tier, so a writer holds the database (SQLite has one writer at a time) for
milliseconds and the web never waits long. The runner calls it now and then
and commits after each call; while a call returns ``batch_size`` there is
more to delete.

A rollup row goes once its whole bucket is older than the tier's retention,
so a tier always covers its full retention period. Packed rows go the same
way, once the whole of what they hold has expired: raw results an hour at a
time (see packing.py), 5-minute buckets an hour at a time and hourly ones a
day at a time (see blocks.py). A tier may so hold up to a block more than
its retention, never less. Each location's own history (see located.py)
goes with the check's: its raw rows as raw results, its daily rows as the
daily tier's.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import ColumnElement, Table, and_, delete, select, true, tuple_

from ..checks.models import Check
from ..extensions import db
from .models import HistoryRollup, LocationDailyTally, LocationRawResults, RawResults, TallyBlock
from .packing import HOUR
from .revision import BUMP
from .tiers import DAILY, RAW_RETENTION_KEY, TIERS, retention_cutoff


def prune_batch(now: datetime, batch_size: int = 1000) -> int:
    """Delete up to ``batch_size`` expired history rows (no commit); return how many went.

    An hour of one check's raw results is one row, and so is a block of a
    packed tier, and an hour of what one location saw of one check.
    """
    deleted = 0
    for table, expired in _expiries(current_app.config, now):
        if deleted >= batch_size:
            break
        gone = _delete_expired(table, expired, batch_size - deleted)
        if gone and table is HistoryRollup.__table__:
            db.session.execute(BUMP)  # the bars of the days these rows held change (see revision.py)
        deleted += gone
    return deleted


def _expiries(config, now: datetime) -> list[tuple[Table, ColumnElement[bool]]]:
    """Each history table with what has expired in it at ``now``, the raw results first."""
    found = []
    raw_cutoff = retention_cutoff(config, RAW_RETENTION_KEY, now)
    if raw_cutoff is not None:
        for raw in (RawResults.__table__, LocationRawResults.__table__):
            found.append((raw, raw.c.hour_start <= raw_cutoff - HOUR))
    rollups, blocks = HistoryRollup.__table__, TallyBlock.__table__
    for tier in TIERS:
        cutoff = retention_cutoff(config, tier.retention_key, now)
        if cutoff is None:
            continue
        if tier.block is None:
            found.append((rollups, and_(rollups.c.width == tier.width, rollups.c.bucket_start <= cutoff - tier.width)))
        else:
            found.append((blocks, and_(blocks.c.width == tier.width, blocks.c.block_start <= cutoff - tier.block)))
        if tier is DAILY:
            located = LocationDailyTally.__table__
            found.append((located, located.c.day_start <= cutoff - DAILY.width))
    return found


def _delete_expired(table: Table, expired: ColumnElement[bool], limit: int) -> int:
    """Delete up to ``limit`` rows of ``table`` matching ``expired``, found check by check.

    Looking rows up per check walks the primary key from each check's oldest
    row. SQLite does that for ``check_id IN (all checks)``; PostgreSQL's
    planner may rather scan the whole table for old rows, so it gets a
    LATERAL subquery per check.
    """
    key = list(table.primary_key.columns)
    if db.session.get_bind().dialect.name == "postgresql":
        per_check = select(*key).where(table.c.check_id == Check.id, expired).limit(limit).lateral()
        found = select(*per_check.c).select_from(Check).join(per_check, true()).limit(limit)
    else:
        found = select(*key).where(table.c.check_id.in_(select(Check.id)), expired).limit(limit)
    return db.session.execute(delete(table).where(tuple_(*key).in_(found))).rowcount
