"""Latency histograms: fixed log-spaced buckets, a compact byte encoding, and p95.

Every rollup row carries one histogram of its response times. The buckets are
the same for every row, so merging two histograms is adding counts bucket by
bucket, and a percentile read from a merged histogram is exactly the one read
from the histogram of all the samples together: rollups of rollups give the
same p95 as rollups of raw results.

Bucket ``k`` holds latencies up to ``BOUNDS_US[k]`` microseconds (and above the
bound before it); the bounds grow by a factor 2**(1/4) (about 19 %) from
100 µs to about 105 s, and one last bucket holds anything slower.

A histogram is stored as bytes: for each non-empty bucket in ascending order,
its index (one byte) then its count as an unsigned LEB128 varint. A row with
results in three buckets, each counted under 128 times, takes six bytes.
"""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from itertools import chain

#: Upper bounds of the buckets in microseconds; a last bucket beyond them holds the rest.
BOUNDS_US: tuple[int, ...] = tuple(round(100 * 2 ** (k / 4)) for k in range(81))
OVERFLOW = len(BOUNDS_US)

Counts = dict[int, int]


def bucket_of(latency_us: int) -> int:
    """The index of the bucket that holds ``latency_us``."""
    return bisect_left(BOUNDS_US, latency_us)


def encode(counts: Mapping[int, int]) -> bytes:
    """Bytes for ``counts`` (bucket index -> count); empty buckets are left out."""
    if counts and max(counts.values()) < 0x80 and min(counts.values()) > 0:
        # Every count fits one byte: the common case, written in one go.
        return bytes(chain.from_iterable(sorted(counts.items())))
    out = bytearray()
    for index in sorted(counts):
        count = counts[index]
        if count <= 0:
            continue
        out.append(index)
        while count >= 0x80:
            out.append(count & 0x7F | 0x80)
            count >>= 7
        out.append(count)
    return bytes(out)


def decode(data: bytes) -> Counts:
    """The bucket counts ``encode`` wrote into ``data``."""
    if data and len(data) % 2 == 0 and max(data[1::2]) < 0x80:
        # Every count is one byte (so index and count alternate): read them in one go.
        return dict(zip(data[::2], data[1::2]))
    counts: Counts = {}
    position, end = 0, len(data)
    while position < end:
        index = data[position]
        count = shift = 0
        while True:
            position += 1
            byte = data[position]
            count |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        position += 1
        counts[index] = counts.get(index, 0) + count
    return counts


def merge(first: bytes | None, second: bytes | None) -> bytes:
    """The encoded sum of two encoded histograms (either may be empty or None)."""
    # merge_all's steps for two: the runner adds a result's histogram to its bucket's for every result.
    if not first or not second:
        return first or second or b""
    counts = decode(first)
    for index, count in decode(second).items():
        counts[index] = counts.get(index, 0) + count
    return encode(counts)


def merge_all(encoded: Iterable[bytes | None]) -> bytes:
    """The encoded sum of several encoded histograms."""
    present = [data for data in encoded if data]
    if len(present) < 2:
        return present[0] if present else b""
    counts: Counts = {}
    for data in present:
        for index, count in decode(data).items():
            counts[index] = counts.get(index, 0) + count
    return encode(counts)


def of_latencies(latencies_us: Iterable[int]) -> Counts:
    """Bucket counts of some latencies."""
    counts: Counts = {}
    for latency in latencies_us:
        index = bisect_left(BOUNDS_US, latency)
        counts[index] = counts.get(index, 0) + 1
    return counts


def percentile_bound(counts: Mapping[int, int], percent: int) -> int | None:
    """The upper bound of the bucket holding the nearest-rank ``percent``-th percentile.

    None for an empty histogram; for the last, open bucket it is None too, and
    callers fall back on the largest latency seen.
    """
    total = sum(counts.values())
    if total == 0:
        return None
    # Integer arithmetic: 0.95 * total in floating point may land just above a whole rank.
    rank = max(1, -(-percent * total // 100))
    seen = 0
    for index in sorted(counts):
        seen += counts[index]
        if seen >= rank:
            return BOUNDS_US[index] if index < OVERFLOW else None
    raise AssertionError("unreachable: the ranks add up to the total")
