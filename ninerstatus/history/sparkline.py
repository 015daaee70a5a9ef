"""Response-time sparklines: a check's hourly mean response times over the last day, as SVG geometry.

The page draws the line as inline SVG from ``Sparkline.path``: no script, no
external asset. Hours without a measured response time leave a gap in the
line instead of a fake zero, and an hour measured alone (the only one on a new
install) is a short dash kept whole inside the box.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property

from sqlalchemy import select

from ..extensions import db
from .models import TALLY_COLUMNS, HistoryRollup
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
    def summary(self) -> str:
        """The line in words, for its title and for readers who cannot see it."""
        total = self.total
        if total.latency_count == 0:
            return "no response times measured in the last 24 hours"
        if sum(mean is not None for mean in self.means) == 1:
            return (f"only one hour measured in the last 24 hours: mean {format_latency(total.latency_mean_us)}, "
                    f"95 % within {format_latency(total.latency_p95_us)}")
        slowest = max(mean or 0 for mean in self.means)
        return (f"last 24 hours: mean {format_latency(total.latency_mean_us)}, "
                f"95 % within {format_latency(total.latency_p95_us)}, "
                f"slowest hourly mean {format_latency(slowest)}")


def sparklines(check_ids: Sequence[int], now: datetime, hours: int = 24) -> dict[int, Sparkline]:
    """The sparklines of some checks over the ``hours`` hours up to now, from the hourly tier."""
    current = HOURLY.bucket_start(epoch_seconds(now))
    first = current - (hours - 1) * HOURLY.width
    found: dict[int, list[Tally]] = {check_id: [Tally()] * hours for check_id in check_ids}
    # Columns, not rollup objects: the page only reads them.
    rows = db.session.execute(select(HistoryRollup.check_id, HistoryRollup.bucket_start, *TALLY_COLUMNS).where(
        HistoryRollup.check_id.in_(check_ids), HistoryRollup.width == HOURLY.width,
        HistoryRollup.bucket_start >= first, HistoryRollup.bucket_start <= current))
    for check_id, bucket_start, *tally in rows:
        found[check_id][(bucket_start - first) // HOURLY.width] = Tally(*tally)
    first_hour = datetime.fromtimestamp(first, timezone.utc)
    return {check_id: Sparkline(tuple(tallies), first_hour) for check_id, tallies in found.items()}
