"""The finer rollup tiers packed a block to a row: an hour of 5-minute tallies, a day of hourly ones.

Over a year the 5-minute and hourly tiers hold millions of buckets, and a
database row per bucket costs more in row header and index entry than the
tally itself (a 24-byte header, a line pointer and a key on PostgreSQL). So
each of those tiers keeps one row per check and block (see ``Tier.block``),
its tallies packed in bytes:

- one byte: the format version (1);
- per non-empty bucket, in ascending order: its index in the block (one
  byte), then as unsigned LEB128 varints up, degraded, down, unknown,
  maintenance, the latency sum and the histogram's length in bytes; when that
  length is not zero, the latency minimum and maximum (varints) and the
  histogram itself (histogram.encode).

An hourly bucket of a check probed every minute takes about 25 bytes. Stored
bytes are untrusted: ``unpack`` checks every field and raises ``CorruptBlock``.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from sqlalchemy import ColumnElement, Select, func, select

from ..plain_rows import plain_rows
from . import histogram, leb128
from .models import TallyBlock
from .rollup import MAX_LATENCY_US, Tally
from .tiers import Tier

log = logging.getLogger(__name__)

VERSION = 1
#: Blocks each process remembers unpacking (see ``unpack_rows``): a window's edges for every check of a large site.
BLOCKS_KEPT = 2048


class CorruptBlock(ValueError):
    """Stored bytes that are not tallies packed by ``pack``."""


def pack(tier: Tier, block_start: int, tallies: Mapping[int, Tally]) -> bytes:
    """The bytes of the tallies of one block of ``tier``, keyed by bucket start."""
    out = bytearray((VERSION,))
    for start in sorted(tallies):
        tally = tallies[start]
        index, off = divmod(start - block_start, tier.width)
        if off or not 0 <= index < tier.block // tier.width:
            raise ValueError(f"bucket {start} is not one of the {tier.name} block from {block_start}")
        out.append(index)
        leb128.extend(out, (*tally[:5], tally.latency_sum_us, len(tally.histogram)))
        if tally.histogram:
            if tally.latency_min_us is None or tally.latency_max_us is None:
                raise ValueError(f"response times counted without their minimum and maximum: {tally}")
            leb128.extend(out, (tally.latency_min_us, tally.latency_max_us))
            out += tally.histogram
    return bytes(out)


def unpack(tier: Tier, block_start: int, data: bytes) -> dict[int, Tally]:
    """The tallies packed in ``data``, the row of the ``tier`` block from ``block_start``, keyed by bucket start."""
    data = bytes(data)
    if tier.block is None or block_start % tier.block or not data or data[0] != VERSION:
        raise CorruptBlock(f"not {tier.name} tallies of format {VERSION} for a block from {block_start}")
    tallies: dict[int, Tally] = {}
    position, previous = 1, -1
    buckets = tier.block // tier.width

    def varint() -> int:
        nonlocal position
        byte = data[position]
        if byte < 0x80:
            # Most counts are one byte.
            position += 1
            return byte
        value, position = leb128.read(data, position)
        return value

    try:
        while position < len(data):
            index = data[position]
            position += 1
            if not previous < index < buckets:
                raise CorruptBlock(f"bucket {index} out of order or outside the block")
            previous = index
            counts = [varint() for _ in range(7)]
            size = counts.pop()
            lowest = highest = None
            encoded = b""
            if size:
                lowest, highest = varint(), varint()
                encoded = data[position:position + size]
                position += size
                if len(encoded) != size or not lowest <= highest <= MAX_LATENCY_US:
                    raise CorruptBlock("response times cut short or out of range")
                histogram.decode(encoded)
            tallies[block_start + index * tier.width] = Tally(*counts[:5], lowest, highest, counts[5], encoded)
    except (IndexError, ValueError) as error:
        raise CorruptBlock(f"tallies cut short or garbled: {error}") from error
    return tallies


#: ``unpack``, remembering what the same bytes of the same block gave: a page reads the edges of its windows
#: and a day of hourly tallies per check, blocks that stop changing once their hour or day is over, so most
#: reads find them unpacked already (and checked: a block that raises is never kept). Not a cache of the
#: site's data: the rows are read afresh every time, and different bytes are unpacked anew.
_unpack_kept = lru_cache(maxsize=BLOCKS_KEPT)(unpack)


def unpack_rows(tier: Tier, rows: Iterable[tuple[int, int, bytes]]) -> list[tuple[int, int, Tally]]:
    """(check_id, bucket_start, tally) of some (check_id, block_start, tallies) rows; a bad row is logged and skipped."""
    found = []
    for check_id, block_start, data in rows:
        try:
            tallies = _unpack_kept(tier, block_start, bytes(data))
            found.extend((check_id, start, tally) for start, tally in tallies.items())
        except CorruptBlock as error:
            log.warning("%s tallies of check %s in the block from %s are left out: %s", tier.name, check_id,
                        block_start, error)
    return found


def covering(check_ids: Sequence[int], tier: Tier, start: int, end: int) -> Select:
    """SQL: the (check_id, block_start, tallies) rows of some checks holding ``tier`` buckets from ``start`` to ``end``."""
    return select(TallyBlock.check_id, TallyBlock.block_start, TallyBlock.tallies).where(
        TallyBlock.check_id.in_(check_ids), TallyBlock.width == tier.width,
        TallyBlock.block_start > start - tier.block, TallyBlock.block_start < end)


def read_tallies(check_ids: Sequence[int], tier: Tier, start: int, end: int) -> list[tuple[int, int, Tally]]:
    """(check_id, bucket_start, tally) of the ``tier`` buckets of some checks starting from ``start`` up to ``end``."""
    rows = plain_rows(covering(check_ids, tier, start, end))
    return [found for found in unpack_rows(tier, rows) if start <= found[1] < end]


def count_statuses(tier: Tier, rows: Iterable[tuple[int, int, bytes]], start: int, end: int) -> tuple[int, int, int]:
    """The up, degraded and down results in the ``tier`` buckets from ``start`` up to ``end`` of some packed rows."""
    inside = [tally for _, bucket, tally in unpack_rows(tier, rows) if start <= bucket < end]
    return sum(t.up for t in inside), sum(t.degraded for t in inside), sum(t.down for t in inside)


def first_block_columns(check_id: ColumnElement[int], tier: Tier) -> list:
    """Scalar subqueries of a check's earliest ``tier`` block: its start, then its tallies (see ``first_bucket``)."""
    mine = (TallyBlock.check_id == check_id, TallyBlock.width == tier.width)
    return [select(func.min(TallyBlock.block_start)).where(*mine).scalar_subquery(),
            select(TallyBlock.tallies).where(*mine).order_by(TallyBlock.block_start).limit(1).scalar_subquery()]


def first_bucket(check_id: int, tier: Tier, block_start: int | None, data: bytes | None) -> int | None:
    """The start of the first bucket in a check's earliest ``tier`` block; None without a readable one."""
    if block_start is None or data is None:
        return None
    found = unpack_rows(tier, [(check_id, block_start, data)])
    return min((start for _, start, _ in found), default=None)
