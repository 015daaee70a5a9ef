"""History as visitors see it: uptime figures, colour bands, day labels, and the template helpers.

Templates get one lazy ``history`` object per render: the sidebar's bar
strips for every public server come from one query (a server page's bars
too), its uptime figures from one more and its sparklines from another, and
nothing is queried unless a template asks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from itertools import groupby

from ..models import Server
from ..timeutil import utcnow
from .sparkline import Sparkline, sparklines
from .uptime import DayBar, daily_bars_by_server, empty_bars, public_check_ids, server_uptime

#: Days of bars on server pages and in the sidebar.
BAR_DAYS = 90

#: Colour bands of a day's uptime, best first: (lowest uptime in the band, band name).
BANDS = ((0.999, "ok"), (0.99, "minor"), (0.95, "major"), (0.0, "outage"))


def format_uptime(ratio: float | None) -> str:
    """An uptime for people: "100 %", "99.95 %" (cut, never rounded up to 100), or "no data"."""
    if ratio is None:
        return "no data"
    if ratio >= 1:
        return "100 %"
    return f"{math.floor(ratio * 10000) / 100:.2f} %"


def format_day(day: date) -> str:
    """A date the way the site writes them: "3 March 2026"."""
    return f"{day.day} {day:%B %Y}"


def band(bar: DayBar) -> str:
    """The colour band of a day: ok, minor, major, outage, maintenance (only maintenance) or nodata."""
    uptime = bar.uptime
    if uptime is None:
        return "maintenance" if bar.maintenance else "nodata"
    return next(name for lowest, name in BANDS if uptime >= lowest)


def day_label(bar: DayBar) -> str:
    """The words on one day's bar: its date and what it was."""
    if bar.uptime is None and bar.maintenance:
        return f"{format_day(bar.day)}: maintenance"
    return f"{format_day(bar.day)}: {format_uptime(bar.uptime)}"


@dataclass(frozen=True)
class Run:
    """Consecutive days in one band: one stretch of the sidebar's thin strip."""

    first: int
    bars: tuple[DayBar, ...]

    @cached_property
    def band(self) -> str:
        return band(self.bars[0])

    @cached_property
    def label(self) -> str:
        """The run's dates and its uptime over all its days."""
        if len(self.bars) == 1:
            return day_label(self.bars[0])
        days = f"{format_day(self.bars[0].day)} to {format_day(self.bars[-1].day)}"
        up, degraded, down = (sum(getattr(bar, name) for bar in self.bars) for name in ("up", "degraded", "down"))
        if self.band == "maintenance":
            return f"{days}: maintenance"
        return f"{days}: {format_uptime(DayBar(self.bars[0].day, up, degraded, down).uptime)}"


def runs(bars: list[DayBar]) -> list[Run]:
    """The bars grouped into runs of the same band, oldest first."""
    grouped: list[Run] = []
    first = 0
    for _band, members in groupby(bars, key=band):
        grouped.append(Run(first, tuple(members)))
        first += len(grouped[-1].bars)
    return grouped


class ServerHistory:
    """A public server's figures for its page, each queried when first read."""

    def __init__(self, site: SiteHistory, server: Server) -> None:
        self.site = site
        self.server = server
        self.now = site.now

    @cached_property
    def uptime(self) -> dict[str, float | None]:
        return server_uptime(self.server, self.now)

    @property
    def bars(self) -> list[DayBar]:
        return self.site.bars(self.server)

    @cached_property
    def sparklines(self) -> dict[int, Sparkline]:
        return sparklines(public_check_ids(self.server), self.now)


class SiteHistory:
    """The ``history`` object of templates."""

    def __init__(self) -> None:
        self.now = utcnow()

    @cached_property
    def _strips(self) -> dict[int, list[DayBar]]:
        return daily_bars_by_server(self.now, BAR_DAYS)

    def bars(self, server: Server) -> list[DayBar]:
        """A public server's 90 daily bars (every server's bars come from one query, shared by the page)."""
        return self._strips.get(server.id) or empty_bars(self.now, BAR_DAYS)

    def strip(self, server: Server) -> list[Run]:
        """The sidebar's 90-day strip of a public server."""
        return runs(self.bars(server))

    def server(self, server: Server) -> ServerHistory:
        """Uptime figures, daily bars and sparklines for a server's page."""
        return ServerHistory(self, server)


def history_context() -> dict:
    """Context processor: the lazy ``history`` object and its formatting helpers."""
    return {"history": SiteHistory(), "format_uptime": format_uptime, "day_label": day_label, "day_band": band}
