"""Writing history: each result as a raw result and into the current bucket of every tier.

The runner calls ``record_result`` once per probe result; imports and the
benchmark call ``record_samples`` with many at once. Both go through the same
steps:

1. merge the results into their check's packed row of their hour (see
   packing.py), skipping any second already there, so a retried write never
   counts twice, and keep the ones that were new;
2. add the new tallies of the packed tiers (5-minute, hourly) to their
   blocks (see blocks.py): each stored block is read, added to and written
   back, locked meanwhile on PostgreSQL (a block still as this process wrote
   it is added to at its end, without unpacking and packing it whole);
3. one upsert for the daily tier that adds each new tally to its bucket row
   (``ON CONFLICT ... DO UPDATE`` on both PostgreSQL and SQLite): counts and
   sums add up, minimum and maximum compare, histograms merge in the database.
4. a new result of a day already over (an agent's late batch) adds one to
   the history revision, so that workers sum that day's bars again (see
   revision.py).

Nothing here commits: the caller's transaction holds the result and its history
together.

Every stored row is untrusted: a packed row that cannot be read is left as
it is and logged; when the upsert fails (a histogram spoiled by hand cannot
be merged), it is tried again one bucket at a time, and only the buckets
that still fail are skipped and logged, so one bad row never costs the
history of every check recorded with it.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from itertools import chain
from typing import Any, NamedTuple

from ..checks.models import Check
from ..extensions import db
from ..probing import ProbeResult
from ..timeutil import utcnow
from .blocks import CorruptBlock
from .blocks import pack as pack_block
from .blocks import unpack as unpack_block
from .models import HistoryRollup, RawResults, TallyBlock
from .packing import CorruptPack, hour_start, last_second, pack, unpack
from .revision import BUMP_SQL, is_late
from .rollup import Sample, Tally, epoch_seconds
from .sqlfunctions import MERGE_FUNCTION
from .tiers import PACKED_TIERS, TIERS, Tier

log = logging.getLogger(__name__)


def record_result(check: Check, result: ProbeResult, *, in_maintenance: bool) -> None:
    """Add ``result`` of ``check`` to history (in the caller's transaction; no commit)."""
    record_samples([Sample.of(check.id, result, in_maintenance=in_maintenance)])


def record_samples(samples: Iterable[Sample], now: datetime | None = None) -> int:
    """Add many results to history (no commit); return how many were new.

    ``now``: the time they are recorded at (default: the clock's), which tells a late result (see revision.py).
    """
    connection = db.session.connection()
    dialect = connection.dialect.name
    cursor = connection.connection.cursor()
    try:
        new = _insert_new(cursor, dialect, list(samples))
        if new:
            if is_late(min(sample.checked_at for sample in new), epoch_seconds(now or utcnow())):
                cursor.execute(BUMP_SQL)
            rows = rollup_rows(new)
            _add_to_blocks(cursor, dialect, [row for row in rows if row[1] in _PACKED])
            _add_to_buckets(connection, cursor, _DAILY, [row for row in rows if row[1] not in _PACKED])
    finally:
        cursor.close()
    return len(new)


class Buckets(NamedTuple):
    """A table of tallies a row per bucket: its name, its key columns (the tally's follow), and how a log names a row."""

    table: str
    key: tuple[str, ...]
    # A %-format of a row's key values.
    named: str


_DAILY = Buckets(HistoryRollup.__tablename__, ("check_id", "width", "bucket_start"), "check %s (width %s s, start %s)")


def _add_to_buckets(connection, cursor, buckets: Buckets, rows: list[tuple]) -> None:
    """Upsert all ``rows`` into ``buckets``; if that fails, each row alone, skipping (and logging) those that fail."""
    upsert = _upsert_sql(connection.dialect.name, buckets)
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
            log.warning(f"history bucket of {buckets.named} cannot be updated as stored, so this result is left "
                        "out of it: %s", *row[:len(buckets.key)], failure)


# The statements go to the database driver directly, a rollup row being the
# tuple of its columns: the runner writes every result here, and SQLAlchemy's
# per-row parameter handling would cost more than the database's own work.

_PLACEHOLDERS = {"sqlite": "?", "postgresql": "%s"}

# Packed rows read or written per statement: a few parameters each, far below either database's limit.
_KEYS_CHUNK = 500
#: The numbers of rows a statement of many rows is written for; a batch is padded up to the next one.
STATEMENT_SIZES = (8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, _KEYS_CHUNK)


def padded(rows: list) -> list:
    """``rows`` with the last repeated up to the next of ``STATEMENT_SIZES`` (none, or more, are left as they are).

    For statements that take a row twice as they take it once (a key looked
    up or inserted if missing, an id in a list). The database then sees a
    dozen statements again and again, each prepared once and kept in its
    cache (SQLite's driver keeps 128 a connection), instead of one per
    batch size: a new size is parsed anew and pushes the others out, and
    each prepared statement of a hundred rows holds some 40 kB.
    """
    size = next((size for size in STATEMENT_SIZES if size >= len(rows)), len(rows))
    return rows + rows[-1:] * (size - len(rows))


_PACKED = {tier.width: tier for tier in PACKED_TIERS}


class _Packed(NamedTuple):
    """A table of packed rows: its name, its key columns and the column of the packed bytes."""

    table: str
    key: tuple[str, ...]
    data: str


_RAW = _Packed(RawResults.__tablename__, ("check_id", "hour_start"), "results")
_BLOCKS = _Packed(TallyBlock.__tablename__, ("check_id", "width", "block_start"), "tallies")

# merge(key, stored bytes or None, what arrived) -> (bytes to store, or None to leave the row; what was taken in).
Merge = Callable[[tuple, "bytes | None", Any], "tuple[bytes | None, list]"]


def _merge_packed(cursor, dialect: str, packed: _Packed, arrivals: dict[tuple, Any], merge: Merge) -> list:
    """Merge what arrived for each key into its packed row; return all that was taken in.

    A stored row is read (and on PostgreSQL locked) before it is rewritten;
    a row another writer created meanwhile is read again and merged into.
    """
    taken: list = []
    while arrivals:
        stored = _stored_rows(cursor, dialect, packed, list(arrivals))
        updates, inserts, pending = [], [], {}
        for key, arrived in arrivals.items():
            data, merged = merge(key, stored.get(key), arrived)
            if data is None:
                taken.extend(merged)
            elif key in stored:
                updates.append((data, *key))
                taken.extend(merged)
            else:
                inserts.append((*key, data))
                pending[key] = merged
        if updates:
            mark = _PLACEHOLDERS[dialect]
            match = " AND ".join(f"{column} = {mark}" for column in packed.key)
            cursor.executemany(f"UPDATE {packed.table} SET {packed.data} = {mark} WHERE {match}", updates)
        beaten = _insert_rows(cursor, dialect, packed, inserts)
        taken.extend(chain.from_iterable(merged for key, merged in pending.items() if key not in beaten))
        arrivals = {key: arrivals[key] for key in beaten}
    return taken


def _stored_rows(cursor, dialect: str, packed: _Packed, keys: list[tuple]) -> dict[tuple, bytes]:
    """The stored packed row of each key that has one, locked until commit on PostgreSQL."""
    found = {}
    for first in range(0, len(keys), _KEYS_CHUNK):
        chunk = padded(keys[first:first + _KEYS_CHUNK])
        cursor.execute(stored_rows_statement(dialect, packed, len(chunk)), tuple(chain.from_iterable(chunk)))
        found.update((tuple(stored[:-1]), stored[-1]) for stored in cursor.fetchall())
    return found


@cache
def stored_rows_statement(dialect: str, packed: _Packed, count: int) -> str:
    """The SELECT of the stored rows of ``count`` keys, each found by its primary key.

    The keys are joined as a list of values rather than matched with a row
    value ``IN (VALUES ...)``: SQLite answers that by reading the whole table
    (a year of history, for every batch of results), a join by searching the
    key once for each.
    """
    mark = _PLACEHOLDERS[dialect]
    names = [f"k{index}" for index in range(len(packed.key))]
    row = f"({', '.join([mark] * len(names))})"
    match = " AND ".join(f"stored.{column} = wanted.{name}" for column, name in zip(packed.key, names))
    lock = " FOR UPDATE OF stored" if dialect == "postgresql" else ""
    return (f"WITH wanted({', '.join(names)}) AS (VALUES {', '.join([row] * count)}) "
            f"SELECT {', '.join(f'stored.{column}' for column in (*packed.key, packed.data))} "
            f"FROM wanted CROSS JOIN {packed.table} AS stored WHERE {match}{lock}")


def _insert_rows(cursor, dialect: str, packed: _Packed, rows: list[tuple]) -> set[tuple]:
    """Insert new packed rows; return the keys of those another writer stored first (left as they were)."""
    inserted = set()
    for first in range(0, len(rows), _KEYS_CHUNK):
        # A row repeated by the padding is a conflict with itself, and left alone as such.
        chunk = padded(rows[first:first + _KEYS_CHUNK])
        cursor.execute(_insert_statement(dialect, packed, len(chunk)), tuple(chain.from_iterable(chunk)))
        inserted.update(map(tuple, cursor.fetchall()))
    return {row[:-1] for row in rows} - inserted


@cache
def _insert_statement(dialect: str, packed: _Packed, count: int) -> str:
    """The INSERT of ``count`` new packed rows, each left out if its key is stored already, returning the keys stored."""
    columns = ", ".join(packed.key)
    row = f"({', '.join([_PLACEHOLDERS[dialect]] * (len(packed.key) + 1))})"
    return (f"INSERT INTO {packed.table} ({columns}, {packed.data}) VALUES {', '.join([row] * count)} "
            f"ON CONFLICT ({columns}) DO NOTHING RETURNING {columns}")


def _insert_new(cursor, dialect: str, samples: list[Sample]) -> list[Sample]:
    """Pack the samples into their check's row of each hour, skipping seconds already stored; return the new ones."""
    hours: dict[tuple, dict[int, Sample]] = defaultdict(dict)
    for sample in samples:
        hours[sample.check_id, hour_start(sample.checked_at)].setdefault(sample.checked_at, sample)
    return _merge_packed(cursor, dialect, _RAW, hours, _merge_results)


def _merge_results(key: tuple, stored: bytes | None, arrived: dict[int, Sample]) -> tuple[bytes | None, list]:
    """Results that arrived merged into the stored ones of their hour, each second once.

    ``key``: the row's check and hour, then (in a location's row) the location.

    Results all newer than the stored ones (the runner's) are appended
    without reading the row. Otherwise the row is unpacked, and one that
    cannot be is left as it is, for a person to look at: the new results of
    its hour then count in the rollups only.
    """
    fresh = sorted(arrived.values())
    if stored is None:
        return pack(fresh), fresh
    stored = bytes(stored)
    last = last_second(stored)
    if last is not None and fresh[0].checked_at - key[1] > last:
        # All newer than what is stored, as the runner's results are: appended, the row left unread.
        return stored + pack(fresh)[1:], fresh
    check_id, start, *location = key
    try:
        kept = unpack(check_id, start, stored)
    except CorruptPack as error:
        log.warning("raw results of check %s in the hour from %s%s cannot be read, so %s new results are kept in "
                    "the rollups only: %s", check_id, start, "".join(f" at location {at}" for at in location),
                    len(arrived), error)
        return None, list(arrived.values())
    known = {sample.checked_at for sample in kept}
    fresh = [sample for sample in fresh if sample.checked_at not in known]
    return (pack(sorted(kept + fresh)) if fresh else None), fresh


def _add_to_blocks(cursor, dialect: str, rows: list[tuple]) -> None:
    """Add rollup rows of the packed tiers to the tallies of their blocks."""
    blocks: dict[tuple, dict[int, Tally]] = defaultdict(dict)
    for check_id, width, start, *tally in rows:
        blocks[check_id, width, _PACKED[width].block_start(start)][start] = Tally(*tally)
    _merge_packed(cursor, dialect, _BLOCKS, blocks, _merge_tallies)


def _merge_tallies(key: tuple, stored: bytes | None, arrived: dict[int, Tally]) -> tuple[bytes | None, list]:
    """Tallies that arrived added to the stored ones of their buckets.

    A stored block that cannot be unpacked is left as it is and the new
    tallies are left out of it, as a spoiled bucket row would be.
    """
    _, width, block_start = key
    tier = _PACKED[width]
    stored = None if stored is None else bytes(stored)
    end = _block_ends.get(key[:2])
    if end is not None and end.block_start == block_start and end.data == stored and min(arrived) >= end.last:
        # The block as this process wrote it, and tallies of its last bucket or later ones, as the runner's
        # are: the bytes before that bucket stay, and the last bucket's tally is known without reading it.
        tallies = dict(arrived)
        last = end.last
        if last in tallies:
            head, tallies[last] = stored[:end.offset], end.tally + tallies[last]
        else:
            head = stored
        return _ended(key, tier, head, tallies), []
    tallies: dict[int, Tally] = {}
    if stored is not None:
        try:
            tallies = unpack_block(tier, block_start, stored)
        except CorruptBlock as error:
            log.warning("history bucket of check %s (width %s s, block from %s) cannot be updated as stored, so "
                        "these results are left out of it: %s", *key, error)
            return None, []
    for start, tally in arrived.items():
        tallies[start] = tallies[start] + tally if start in tallies else tally
    return _ended(key, tier, b"", tallies), []


class _BlockEnd(NamedTuple):
    """A block as this process last wrote it: its start, its bytes, and its last bucket (where it starts in the
    bytes, its start and its tally)."""

    block_start: int
    data: bytes
    offset: int
    last: int
    tally: Tally


#: Blocks whose ends are kept at most; past that the store starts again (checks deleted meanwhile go).
BLOCK_ENDS_KEPT = 50_000
# By check and tier, the block this process last wrote (a later one takes its place).
# The runner adds to a block's last bucket (or starts the next) every minute; while the stored bytes
# are those it wrote, the block need not be unpacked, checked and packed again whole. A write that
# was rolled back, or another writer's, leaves other bytes stored, which are read as usual.
_block_ends: dict[tuple[int, int], _BlockEnd] = {}


def _ended(key: tuple, tier: Tier, head: bytes, tallies: dict[int, Tally]) -> bytes:
    """The bytes of a block: ``head`` (its buckets before these, packed; empty for none) then ``tallies`` packed.

    Notes them as the block's end for the next write.
    """
    *before, last = sorted(tallies)
    data = head or pack_block(tier, key[2], {})
    if before:
        data += pack_block(tier, key[2], {start: tallies[start] for start in before})[1:]
    offset = len(data)
    data += pack_block(tier, key[2], {last: tallies[last]})[1:]
    if len(_block_ends) >= BLOCK_ENDS_KEPT:
        _block_ends.clear()
    _block_ends[key[:2]] = _BlockEnd(key[2], data, offset, last, tallies[last])
    return data


@cache
def _upsert_sql(dialect: str, buckets: Buckets) -> str:
    """The upsert that adds a rollup row to the stored row of its bucket in ``buckets``."""
    table = buckets.table
    columns = buckets.key + Tally._fields
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
            f"ON CONFLICT ({', '.join(buckets.key)}) DO UPDATE SET {', '.join(updates)}")


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
        # A bucket of one tally below holds that very tally (most of the runner's, a result a minute).
        level = {key: group[0] if len(group) == 1 else Tally.total(group) for key, group in groups.items()}
        rows.extend((check_id, tier.width, start, *tally) for (check_id, start), tally in level.items())
    return rows
