"""History as visitors see it: uptime figures, colour bands and their legend, day labels, and the template helpers.

A figure says what it covers: "Last 7 days" when the data fills the window,
"Since 2 Dec 04:58 UTC" when the data starts later (every longer window would
repeat the same figure, so only the shortest of them is shown), and "no data
yet" when nothing was ever recorded (see uptime.py for what counts as covered).
Days without data are their own band, "nodata", never a colour of uptime.

Templates get one lazy ``history`` object per render: the sidebar's bar
strips for every public server come from one query (each drawn as markup
once per worker for the same days, see ``drawn``) (a server page's bars
too), its uptime figures from one more and its sparklines from another, and
nothing is queried unless a template asks.
"""
from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from itertools import groupby

from markupsafe import Markup

from ..checks.status import short_time
from ..drawn_once import drawn_once
from ..models import Server
from ..timeutil import utcnow
from .sparkline import Sparkline, sparklines
from .uptime import (DayBar, WindowUptime, daily_bars_by_server, empty_bars, first_results, public_check_ids,
                     window_uptimes)

#: Days of bars on server pages and in the sidebar.
BAR_DAYS = 90

#: Distinct inputs each worker remembers drawing per template (see ``drawn``): a few for every server or check
#: of a large site.
DRAWN_KEPT = 1024

#: Colour bands of a day's uptime, best first: (lowest uptime in the band, band name).
BANDS = ((0.999, "ok"), (0.99, "minor"), (0.95, "major"), (0.0, "outage"))

#: The windows of uptime.WINDOWS in words.
WINDOW_WORDS = {"24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days"}


def format_uptime(ratio: float | None) -> str:
    """An uptime for people: "100 %", "99.95 %" (cut, never rounded up to 100), or "no data"."""
    if ratio is None:
        return "no data"
    if ratio >= 1:
        return "100 %"
    return f"{math.floor(ratio * 10000) / 100:.2f} %"


def percent(ratio: float) -> str:
    """A band's bound for people: "99.9 %", "95 %"."""
    return f"{round(ratio * 100, 2):g} %"


def legend() -> list[tuple[str, str]]:
    """What each colour of the day bars means, best first: (band, words)."""
    entries = []
    upper = None
    for lowest, name in BANDS:
        if upper is None:
            words = f"{percent(lowest)} or more up"
        elif lowest > 0:
            words = f"{percent(lowest)} to {percent(upper)} up"
        else:
            words = f"below {percent(upper)} up"
        entries.append((name, words))
        upper = lowest
    return entries + [("maintenance", "maintenance only"), ("nodata", "no data")]


@dataclass(frozen=True)
class Figure:
    """One uptime figure as a server page shows it: what it covers and its value, in words."""

    label: str
    value: str
    complete: bool


def figures(windows: dict[str, WindowUptime]) -> list[Figure]:
    """The figures worth showing, shortest window first; see the module's docstring."""
    shown = []
    for key, window in windows.items():
        if window.complete:
            shown.append(Figure(f"Last {WINDOW_WORDS[key]}", format_uptime(window.uptime), True))
            continue
        label = "So far" if window.since is None else f"Since {short_time(window.since, window.now)}"
        shown.append(Figure(label, "no data yet" if window.uptime is None else format_uptime(window.uptime), False))
        # Every longer window starts before the data too, so it reads the very same results.
        break
    return shown


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


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive days in one band: one stretch of the sidebar's thin strip, with its words worked out.

    Plain fields, filled in once by ``runs``: the sidebar draws every public
    server's strip on every page, so the template only reads them.
    """

    first: int
    bars: tuple[DayBar, ...]
    band: str
    #: The run's dates and its uptime over all its days.
    label: str

    @property
    def width(self) -> int:
        return len(self.bars)


def run_label(bars: tuple[DayBar, ...], band_: str) -> str:
    """The words on a run of days in ``band_``: its dates and its uptime over all its days."""
    if len(bars) == 1:
        return day_label(bars[0])
    days = f"{format_day(bars[0].day)} to {format_day(bars[-1].day)}"
    if band_ == "maintenance":
        return f"{days}: maintenance"
    up, degraded, down = (sum(getattr(bar, name) for bar in bars) for name in ("up", "degraded", "down"))
    return f"{days}: {format_uptime(DayBar(bars[0].day, up, degraded, down).uptime)}"


def runs(bars: list[DayBar]) -> list[Run]:
    """The bars grouped into runs of the same band, oldest first."""
    grouped: list[Run] = []
    first = 0
    for band_, members in groupby(bars, key=band):
        days = tuple(members)
        grouped.append(Run(first, days, band_, run_label(days, band_)))
        first += len(days)
    return grouped


#: The templates drawn from their input alone, each with what it is given from it: the sidebar's strip
#: (a stretch per run of days in one band) and a server page's bars (each day's band and words) from a
#: server's 90 bars, and a check's sparkline from its name and its line.
DRAWN_FROM = {
    "history/strip.html": lambda bars: {"strip": runs(list(bars))},
    "history/bars.html": lambda bars: {"bars": [(band(bar), day_label(bar)) for bar in bars]},
    "history/sparkline.html": lambda named: {"title": named[0], "line": named[1]},
}


def drawn(template_name: str, given: Hashable) -> Markup:
    """``template_name`` (one of ``DRAWN_FROM``) drawn from ``given``: the same input always draws the same markup.

    So each worker draws it once per distinct input and reuses it (see
    drawn_once.py): only today's bar and the current hour's sparkline change
    as results come in, and every page shows every public server's strip.
    The input itself is read afresh on every page.
    """
    context = DRAWN_FROM[template_name]
    return drawn_once(template_name,
                      lambda app, value: Markup(app.jinja_env.get_template(template_name).render(**context(value))),
                      given, kept=DRAWN_KEPT)


class ServerHistory:
    """A public server's figures for its page, each queried when first read."""

    def __init__(self, site: SiteHistory, server: Server) -> None:
        self.site = site
        self.server = server
        self.now = site.now

    @cached_property
    def check_ids(self) -> list[int]:
        return public_check_ids(self.server)

    @cached_property
    def first_results(self) -> dict[int, int]:
        """Each public check's first result: where the figures and the sparklines start."""
        return first_results(self.check_ids, self.now)

    @cached_property
    def uptime(self) -> dict[str, WindowUptime]:
        return window_uptimes(self.check_ids, min(self.first_results.values(), default=None), self.now)

    @property
    def figures(self) -> list[Figure]:
        return figures(self.uptime)

    @property
    def bars(self) -> list[DayBar]:
        return self.site.bars(self.server)

    @property
    def drawn_bars(self) -> Markup:
        """The 90 bars as a server page lists them, drawn from history/bars.html."""
        return drawn("history/bars.html", tuple(self.bars))

    @cached_property
    def sparklines(self) -> dict[int, Sparkline]:
        return sparklines(self.check_ids, self.now, first_results=self.first_results)

    def drawn_sparkline(self, title: str, line: Sparkline) -> Markup:
        """A check's sparkline as a server page lists it, drawn from history/sparkline.html."""
        return drawn("history/sparkline.html", (title, line))


class SiteHistory:
    """The ``history`` object of templates."""

    def __init__(self) -> None:
        self.now = utcnow()

    @cached_property
    def _strips(self) -> dict[int, list[DayBar]]:
        return daily_bars_by_server(self.now, BAR_DAYS)

    @cached_property
    def _no_data(self) -> list[DayBar]:
        return empty_bars(self.now, BAR_DAYS)

    def bars(self, server: Server) -> list[DayBar]:
        """A public server's 90 daily bars (every server's bars come from one query, shared by the page)."""
        return self._strips.get(server.id) or self._no_data

    def strip(self, server: Server) -> Markup:
        """The sidebar's 90-day strip of a public server, drawn from history/strip.html."""
        return drawn("history/strip.html", tuple(self.bars(server)))

    def server(self, server: Server) -> ServerHistory:
        """Uptime figures, daily bars and sparklines for a server's page."""
        return ServerHistory(self, server)


def history_context() -> dict:
    """Context processor: the lazy ``history`` object and the legend of its colours."""
    return {"history": SiteHistory(), "uptime_legend": legend()}
