"""Rollup arithmetic: what a bucket of results adds up to, and how two buckets add up.

A ``Tally`` is the content of one rollup row. Tallies are built from samples
with ``Tally.of_samples`` and combined with ``Tally.total`` (or ``+``); every field is a count, a
sum, a minimum, a maximum or a histogram, so adding the tallies of two
periods gives exactly the tally of all their samples. That is why an hourly
row written from 5-minute rows (or straight from results) equals one computed
from the raw results, to the microsecond and the histogram bucket.

How a result counts:

- in a maintenance window: ``maintenance`` only, whatever its status, so it is
  never downtime;
- otherwise by status: OK is ``up``, WARNING ``degraded``, CRITICAL ``down``,
  UNKNOWN ``unknown`` (the probe could not decide, which is never downtime);
- its response time counts only when the service answered (up or degraded):
  a timeout measures the timeout, not the service.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from ..probing import ProbeResult, Status
from . import histogram

P95 = 95
# Latencies are 32-bit columns; a probe never runs anywhere near this long (35 minutes).
MAX_LATENCY_US = 2**31 - 1


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch (UTC) of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; history needs aware datetimes")
    return math.floor(moment.timestamp())


class Sample(NamedTuple):
    """One probe result as history keeps it: times in epoch seconds, latency in microseconds.

    The fields are the columns of a raw row, in order, so a Sample is that row.
    """

    check_id: int
    checked_at: int
    status: Status
    latency_us: int | None
    error_kind: str | None
    in_maintenance: bool

    @classmethod
    def of(cls, check_id: int, result: ProbeResult, *, in_maintenance: bool) -> Sample:
        """The sample of ``result``, a result of check ``check_id``."""
        total = result.timings.total
        return cls(check_id, epoch_seconds(result.checked_at), result.status,
                   None if total is None else min(max(0, round(total * 1_000_000)), MAX_LATENCY_US),
                   result.error_kind.value if result.error_kind else None, in_maintenance)


class Tally(NamedTuple):
    """Counts and response times of the results in one period (one rollup row).

    The fields are the rollup columns, in order.
    """

    up: int = 0
    degraded: int = 0
    down: int = 0
    unknown: int = 0
    maintenance: int = 0
    latency_min_us: int | None = None
    latency_max_us: int | None = None
    latency_sum_us: int = 0
    histogram: bytes = b""

    @classmethod
    def of_samples(cls, samples: Iterable[Sample]) -> Tally:
        """The tally of some samples."""
        # Indexed by Status value: OK, WARNING, CRITICAL, UNKNOWN.
        counts = [0, 0, 0, 0]
        maintenance = 0
        latencies: list[int] = []
        for sample in samples:
            if sample.in_maintenance:
                maintenance += 1
                continue
            counts[sample.status] += 1
            if sample.latency_us is not None and sample.status <= Status.WARNING:
                latencies.append(sample.latency_us)
        if not latencies:
            return cls(*counts, maintenance)
        return cls(*counts, maintenance, min(latencies), max(latencies), sum(latencies),
                   histogram.encode(histogram.of_latencies(latencies)))

    @classmethod
    def total(cls, tallies: Iterable[Tally]) -> Tally:
        """The tally of several periods together: the rollup of rollups."""
        columns = list(zip(*tallies))
        if not columns:
            return cls()
        up, degraded, down, unknown, maintenance, minima, maxima, sums, histograms = columns
        measured_min = [value for value in minima if value is not None]
        measured_max = [value for value in maxima if value is not None]
        return cls(sum(up), sum(degraded), sum(down), sum(unknown), sum(maintenance),
                   min(measured_min, default=None), max(measured_max, default=None), sum(sums),
                   histogram.merge_all(histograms))

    def __add__(self, other: Tally) -> Tally:  # type: ignore[override]
        # What ``total`` makes of the two, field by field: the runner adds a tally to its bucket for every result.
        low, high = self.latency_min_us, self.latency_max_us
        if other.latency_min_us is not None:
            low = other.latency_min_us if low is None else min(low, other.latency_min_us)
        if other.latency_max_us is not None:
            high = other.latency_max_us if high is None else max(high, other.latency_max_us)
        return Tally(self.up + other.up, self.degraded + other.degraded, self.down + other.down,
                     self.unknown + other.unknown, self.maintenance + other.maintenance, low, high,
                     self.latency_sum_us + other.latency_sum_us, histogram.merge(self.histogram, other.histogram))

    @property
    def results(self) -> int:
        """How many results the period had, of every kind."""
        return self.up + self.degraded + self.down + self.unknown + self.maintenance

    @property
    def uptime(self) -> float | None:
        """See ``uptime_ratio``."""
        return uptime_ratio(self.up, self.degraded, self.down)

    @property
    def latency_count(self) -> int:
        """How many response times were measured (the histogram's total)."""
        return sum(histogram.decode(self.histogram).values())

    @property
    def latency_mean_us(self) -> float | None:
        """The mean response time in microseconds, or None when none was measured."""
        count = self.latency_count
        return self.latency_sum_us / count if count else None

    @property
    def latency_p95_us(self) -> int | None:
        """The 95th percentile as the bound of its histogram bucket, never above the slowest time seen."""
        bound = histogram.percentile_bound(histogram.decode(self.histogram), P95)
        if bound is None:
            return self.latency_max_us
        return min(bound, self.latency_max_us)


def uptime_ratio(up: int, degraded: int, down: int) -> float | None:
    """up / (up + degraded + down), from 0 to 1; None when nothing was measured.

    Maintenance and UNKNOWN results are not arguments: they never count.
    """
    measured = up + degraded + down
    return up / measured if measured else None
