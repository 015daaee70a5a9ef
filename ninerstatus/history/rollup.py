"""Rollup arithmetic: what a bucket of results adds up to, and how two buckets add up.

A ``Tally`` is the content of one rollup row. Tallies are built from samples
with ``Tally.of_samples`` and combined with ``+``; every field is a count, a
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
from dataclasses import dataclass
from datetime import datetime

from ..probing import ProbeResult, Status
from . import histogram

P95 = 95


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the Unix epoch (UTC) of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; history needs aware datetimes")
    return math.floor(moment.timestamp())


@dataclass(frozen=True)
class Sample:
    """One probe result as history keeps it: times in epoch seconds, latency in microseconds."""

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
                   None if total is None else max(0, round(total * 1_000_000)),
                   result.error_kind.value if result.error_kind else None, in_maintenance)


@dataclass(frozen=True)
class Tally:
    """Counts and response times of the results in one period (one rollup row)."""

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
        counts = {Status.OK: 0, Status.WARNING: 0, Status.CRITICAL: 0, Status.UNKNOWN: 0}
        maintenance = 0
        latencies: list[int] = []
        for sample in samples:
            if sample.in_maintenance:
                maintenance += 1
                continue
            counts[sample.status] += 1
            if sample.latency_us is not None and sample.status in (Status.OK, Status.WARNING):
                latencies.append(sample.latency_us)
        return cls(counts[Status.OK], counts[Status.WARNING], counts[Status.CRITICAL], counts[Status.UNKNOWN],
                   maintenance, min(latencies, default=None), max(latencies, default=None), sum(latencies),
                   histogram.encode(histogram.of_latencies(latencies)))

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.up + other.up, self.degraded + other.degraded, self.down + other.down,
            self.unknown + other.unknown, self.maintenance + other.maintenance,
            _least(self.latency_min_us, other.latency_min_us), _greatest(self.latency_max_us, other.latency_max_us),
            self.latency_sum_us + other.latency_sum_us, histogram.merge(self.histogram, other.histogram))

    @property
    def count(self) -> int:
        """Every result in the period."""
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


def _least(first: int | None, second: int | None) -> int | None:
    return second if first is None else first if second is None else min(first, second)


def _greatest(first: int | None, second: int | None) -> int | None:
    return second if first is None else first if second is None else max(first, second)
