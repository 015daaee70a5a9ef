"""Writing history: each result as a raw row and into the current bucket of every tier.

The runner calls ``record_result`` once per probe result; imports and the
benchmark call ``record_samples`` with many at once. Both go through the same
same steps:

1. merge the results into their check's packed row of their hour (see
   packing.py), skipping any second already there, so a retried write never
   counts twice, and keep the ones that were new;
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
from .models import HistoryRollup, RawResults
from .packing import CorruptPack, hour_start, pack, unpack
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


# The statements go to the database driver directly, a rollup row being the
# tuple of its columns: the runner writes every result here, and SQLAlchemy's
# per-row parameter handling would cost more than the database's own work.

_PLACEHOLDERS = {"sqlite": "?", "postgresql": "%s"}

# Packed rows read per SELECT: 2 parameters each, far below either database's limit.
_KEYS_CHUNK = 500


def _insert_new(cursor, dialect: str, samples: list[Sample]) -> list[Sample]:
    """Pack the samples into their check's row of each hour, skipping seconds already stored; return the new ones.

    A stored row is read (and on PostgreSQL locked) before it is rewritten
    with the new results merged in; a row that another writer created
    meanwhile is read again. A row that cannot be unpacked is left as it is,
    for a person to look at: its hour's new results count in the rollups only.
    """
    hours: dict[tuple[int, int], dict[int, Sample]] = defaultdict(dict)
    for sample in samples:
        hours[sample.check_id, hour_start(sample.checked_at)].setdefault(sample.checked_at, sample)
    new: list[Sample] = []
    while hours:
        stored = _stored_hours(cursor, dialect, list(hours))
        updates, inserts = [], []
        for key, arrived in hours.items():
            data = stored.get(key)
            if data is None:
                fresh = sorted(arrived.values())
                inserts.append((*key, pack(fresh)))
                new.extend(fresh)
                continue
            try:
                kept = unpack(*key, data)
            except CorruptPack as error:
                log.warning("raw results of check %s in the hour from %s cannot be read, so %s new results are "
                            "kept in the rollups only: %s", *key, len(arrived), error)
                new.extend(arrived.values())
                continue
            known = {sample.checked_at for sample in kept}
            fresh = [sample for second, sample in arrived.items() if second not in known]
            if fresh:
                updates.append((pack(sorted(kept + fresh)), *key))
                new.extend(fresh)
        if updates:
            cursor.executemany(_update_sql(dialect), updates)
        hours = {key: hours[key] for key in _insert_rows(cursor, dialect, inserts)}
        # Whatever another writer stored first is merged on the next pass.
        new = [sample for sample in new if (sample.check_id, hour_start(sample.checked_at)) not in hours]
    return new


def _stored_hours(cursor, dialect: str, keys: list[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The stored packed row of each (check, hour) key that has one, locked until commit on PostgreSQL."""
    table = RawResults.__tablename__
    mark = _PLACEHOLDERS[dialect]
    lock = " FOR UPDATE" if dialect == "postgresql" else ""
    found = {}
    for first in range(0, len(keys), _KEYS_CHUNK):
        chunk = keys[first:first + _KEYS_CHUNK]
        rows = ", ".join([f"({mark}, {mark})"] * len(chunk))
        cursor.execute(f"SELECT check_id, hour_start, results FROM {table} WHERE (check_id, hour_start) IN "
                       f"(VALUES {rows}){lock}", tuple(chain.from_iterable(chunk)))
        found.update(((check_id, start), data) for check_id, start, data in cursor.fetchall())
    return found


def _insert_rows(cursor, dialect: str, rows: list[tuple]) -> set[tuple[int, int]]:
    """Insert new packed rows; return the keys of those another writer stored first (left as they were)."""
    if not rows:
        return set()
    table = RawResults.__tablename__
    mark = _PLACEHOLDERS[dialect]
    inserted = set()
    for first in range(0, len(rows), _KEYS_CHUNK):
        chunk = rows[first:first + _KEYS_CHUNK]
        values = ", ".join([f"({mark}, {mark}, {mark})"] * len(chunk))
        cursor.execute(f"INSERT INTO {table} (check_id, hour_start, results) VALUES {values} "
                       "ON CONFLICT (check_id, hour_start) DO NOTHING RETURNING check_id, hour_start",
                       tuple(chain.from_iterable(chunk)))
        inserted.update(map(tuple, cursor.fetchall()))
    return {row[:2] for row in rows} - inserted


@cache
def _update_sql(dialect: str) -> str:
    mark = _PLACEHOLDERS[dialect]
    return (f"UPDATE {RawResults.__tablename__} SET results = {mark} "
            f"WHERE check_id = {mark} AND hour_start = {mark}")


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
