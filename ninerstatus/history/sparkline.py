"""Response-time sparklines: a check's hourly mean response times over the last day, as SVG geometry.

The page draws the line as inline SVG from ``Sparkline.path``: no script, no
external asset. Hours without a measured response time leave a gap in the
line instead of a fake zero, and an hour measured alone (the only one on a new
install) is a short dash kept whole inside the box. A check younger than the
line's 24 hours says so: its summary covers the time since its first result.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cached_property

from ..checks.status import short_time
from .blocks import read_tallies
from .rollup import Tally, epoch_seconds
from .tiers import HOURLY

WIDTH = 120
HEIGHT = 24
# Room for the stroke at the top and bottom of the box.
MARGIN = 1.5
# The length of the dash drawn for an hour measured alone: wide enough to see.
DASH = 4


def format_latency(microseconds: float | None) -> str:
    """A response time for people: "0.4 ms", "12 ms", "1.25 s"; "no data" for None."""
    if microseconds is None:
        return "no data"
    if microseconds >= 1_000_000:
        return f"{microseconds / 1_000_000:.2f} s"
    if microseconds >= 10_000:
        return f"{microseconds / 1000:.0f} ms"
    return f"{microseconds / 1000:.1f} ms"


@dataclass(frozen=True)
class Sparkline:
    """One check's response times, one Tally per hour, oldest first."""

    hours: tuple[Tally, ...]
    first_hour: datetime
    #: The check's first result when it came after ``first_hour``: the line covers only the time since.
    since: datetime | None = None

    @cached_property
    def total(self) -> Tally:
        """Every hour together (its p95 is exact: histograms add up)."""
        return Tally.total(self.hours)

    @cached_property
    def means(self) -> list[float | None]:
        """The mean response time of each hour, None for hours without one."""
        return [hour.latency_mean_us for hour in self.hours]

    @property
    def path(self) -> str:
        """SVG path data of the hourly means, scaled from zero to the slowest hour; "" without data."""
        means = self.means
        top = max((mean for mean in means if mean is not None), default=None)
        if not top:
            return ""
        step = WIDTH / max(len(means) - 1, 1)
        parts: list[str] = []
        previous = None
        for index, mean in enumerate(means):
            if mean is None:
                previous = None
                continue
            x = index * step
            y = HEIGHT - MARGIN - mean / top * (HEIGHT - 2 * MARGIN)
            if previous is None and (index + 1 == len(means) or means[index + 1] is None):
                # A lone hour still shows, as a dash around its place that the box's edges do not cut.
                start = min(max(x - DASH / 2, MARGIN), WIDTH - MARGIN - DASH)
                parts.append(f"M{start:.1f},{y:.1f}h{DASH}")
            else:
                parts.append(f"{'L' if previous is not None else 'M'}{x:.1f},{y:.1f}")
            previous = mean
        return "".join(parts)

    @property
    def period(self) -> str:
        """The time the line covers, in words: "last 24 hours" or "since 09:14 UTC"."""
        if self.since is None:
            return f"last {len(self.hours)} hours"
        # The current hour's start has the same date as now, which is all short_time needs.
        return f"since {short_time(self.since, self.first_hour + timedelta(hours=len(self.hours) - 1))}"

    @property
    def summary(self) -> str:
        """The line in words, for its title and for readers who cannot see it."""
        total = self.total
        within = self.period if self.since is not None else f"in the {self.period}"
        if total.latency_count == 0:
            return f"no response times measured {within}"
        if sum(mean is not None for mean in self.means) == 1:
            return (f"only one hour measured {within}: mean {format_latency(total.latency_mean_us)}, "
                    f"95 % within {format_latency(total.latency_p95_us)}")
        slowest = max(mean or 0 for mean in self.means)
        return (f"{self.period}: mean {format_latency(total.latency_mean_us)}, "
                f"95 % within {format_latency(total.latency_p95_us)}, "
                f"slowest hourly mean {format_latency(slowest)}")


def sparklines(check_ids: Sequence[int], now: datetime, hours: int = 24, *,
               first_results: Mapping[int, int] | None = None) -> dict[int, Sparkline]:
    """The sparklines of some checks over the ``hours`` hours up to now, from the hourly tier.

    ``first_results`` (uptime.first_results of the checks) lets a line of a
    check younger than ``hours`` say since when it runs.
    """
    current = HOURLY.bucket_start(epoch_seconds(now))
    first = current - (hours - 1) * HOURLY.width
    found: dict[int, list[Tally]] = {check_id: [Tally()] * hours for check_id in check_ids}
    for check_id, bucket_start, tally in read_tallies(check_ids, HOURLY, first, current + HOURLY.width):
        found[check_id][(bucket_start - first) // HOURLY.width] = tally
    first_hour = datetime.fromtimestamp(first, timezone.utc)
    starts = first_results or {}

    def since(check_id: int) -> datetime | None:
        start = starts.get(check_id)
        if start is None or start <= first:
            return None
        # A stored time is untrusted: one in the future counts as now.
        return datetime.fromtimestamp(min(start, epoch_seconds(now)), timezone.utc)

    return {check_id: Sparkline(tuple(tallies), first_hour, since(check_id)) for check_id, tallies in found.items()}
