"""Writing history: each result as a raw row and into the current bucket of every tier.

The runner calls ``record_result`` once per probe result; imports and the
benchmark call ``record_samples`` with many at once. Both go through the same
two statements:

1. insert the raw rows, skipping any already there (same check, same second),
   and get back the ones that were new, so a retried write never counts twice;
2. one upsert for all tiers that adds each new tally to its bucket row
   (``ON CONFLICT ... DO UPDATE`` on both PostgreSQL and SQLite): counts and
   sums add up, minimum and maximum compare, histograms merge in the database.

Nothing here commits: the caller's transaction holds the result and its history
together.

A stored bucket row is untrusted like every row: when the upsert fails (a
histogram spoiled by hand cannot be merged), it is tried again one bucket at
a time, and only the buckets that still fail are skipped and logged, so one
bad row never costs the history of every check recorded with it.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from functools import cache
from itertools import chain

from ..checks.models import Check
from ..extensions import db
from ..probing import ProbeResult
from .models import HistoryResult, HistoryRollup
from .rollup import Sample, Tally
from .sqlfunctions import MERGE_FUNCTION
from .tiers import TIERS

log = logging.getLogger(__name__)


def record_result(check: Check, result: ProbeResult, *, in_maintenance: bool) -> None:
    """Add ``result`` of ``check`` to history (in the caller's transaction; no commit)."""
    record_samples([Sample.of(check.id, result, in_maintenance=in_maintenance)])


def record_samples(samples: Iterable[Sample]) -> int:
    """Add many results to history (no commit); return how many were new."""
    connection = db.session.connection()
    dialect = connection.dialect.name
    cursor = connection.connection.cursor()
    try:
        new = _insert_new(cursor, dialect, list(samples))
        if new:
            _add_to_buckets(connection, cursor, _upsert_sql(dialect), rollup_rows(new))
    finally:
        cursor.close()
    return len(new)


def _add_to_buckets(connection, cursor, upsert: str, rows: list[tuple]) -> None:
    """Run ``upsert`` for all ``rows``; if that fails, for each row alone, skipping (and logging) those that fail."""
    error = connection.dialect.dbapi.Error
    try:
        # Savepoints of the connection itself: they are set at once, before the cursor runs.
        with connection.begin_nested():
            cursor.executemany(upsert, rows)
        return
    except error:
        pass
    for row in rows:
        try:
            with connection.begin_nested():
                cursor.execute(upsert, row)
        except error as failure:
            log.warning("history bucket of check %s (width %s s, start %s) cannot be updated as stored, so this "
                        "result is left out of it: %s", *row[:3], failure)


# Both statements go to the database driver directly, a Sample or a rollup row
# being the tuple of its columns: the runner writes every result here, and
# SQLAlchemy's per-row parameter handling would cost more than the database's
# own work.

# Rows per raw INSERT: 6 parameters each stays far below SQLite's 32766 and
# PostgreSQL's 65535 parameters per statement.
_RAW_CHUNK = 1000

_PLACEHOLDERS = {"sqlite": "?", "postgresql": "%s"}


def _insert_new(cursor, dialect: str, samples: list[Sample]) -> list[Sample]:
    """Insert the raw rows, skipping those already stored; return the samples that were new."""
    inserted: set[tuple[int, int]] = set()
    for start in range(0, len(samples), _RAW_CHUNK):
        chunk = samples[start:start + _RAW_CHUNK]
        cursor.execute(_raw_insert_sql(dialect, len(chunk)), tuple(chain.from_iterable(chunk)))
        inserted.update(map(tuple, cursor.fetchall()))
    return [sample for sample in samples if (sample.check_id, sample.checked_at) in inserted]


@cache
def _raw_insert_sql(dialect: str, rows: int) -> str:
    row = f"({', '.join([_PLACEHOLDERS[dialect]] * len(Sample._fields))})"
    return (f"INSERT INTO {HistoryResult.__tablename__} ({', '.join(Sample._fields)}) "
            f"VALUES {', '.join([row] * rows)} "
            "ON CONFLICT (check_id, checked_at) DO NOTHING RETURNING check_id, checked_at")


_KEY = ("check_id", "width", "bucket_start")


@cache
def _upsert_sql(dialect: str) -> str:
    """The upsert that adds a rollup row to the stored row of its bucket."""
    table = HistoryRollup.__tablename__
    columns = _KEY + Tally._fields
    # SQLite's two-argument min() and max() are PostgreSQL's least() and greatest();
    # NULL means "no response time yet" and must not win the comparison.
    least, greatest = ("least", "greatest") if dialect == "postgresql" else ("min", "max")
    compare = "{0}(coalesce({1}.{2}, excluded.{2}), coalesce(excluded.{2}, {1}.{2}))"
    updates = [f"{name} = {table}.{name} + excluded.{name}"
               for name in ("up", "degraded", "down", "unknown", "maintenance", "latency_sum_us")]
    updates += [f"latency_min_us = {compare.format(least, table, 'latency_min_us')}",
                f"latency_max_us = {compare.format(greatest, table, 'latency_max_us')}",
                f"histogram = {MERGE_FUNCTION}({table}.histogram, excluded.histogram)"]
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join([_PLACEHOLDERS[dialect]] * len(columns))}) "
            f"ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET {', '.join(updates)}")


def rollup_rows(samples: Iterable[Sample]) -> list[tuple]:
    """One row per tier bucket the samples fall in: (check_id, width, bucket_start, *tally).

    The finest tier's tallies come from the samples, each coarser tier's from
    the tallies of the tier below: rollups of rollups, which add up exactly.
    """
    groups: dict[tuple[int, int], list] = defaultdict(list)
    finest = TIERS[0]
    for sample in samples:
        groups[sample.check_id, finest.bucket_start(sample.checked_at)].append(sample)
    level = {key: Tally.of_samples(group) for key, group in groups.items()}
    rows = [(check_id, finest.width, start, *tally) for (check_id, start), tally in level.items()]
    for tier in TIERS[1:]:
        groups = defaultdict(list)
        for (check_id, start), tally in level.items():
            groups[check_id, tier.bucket_start(start)].append(tally)
        level = {key: Tally.total(group) for key, group in groups.items()}
        rows.extend((check_id, tier.width, start, *tally) for (check_id, start), tally in level.items())
    return rows
