"""Uptime of checks and servers over 24 h, 7 d, 30 d and 90 d, how much data backs each, and one bar per day.

uptime = up / (up + degraded + down): results in maintenance windows and
UNKNOWN results are left out (neither is downtime), and a window where nothing
was measured has no uptime at all (None), never 0 % or 100 %.

A window is read from the coarsest tier that covers each stretch of it: whole
days from daily rollups, the hours before the first whole day from hourly
ones, and so on down to raw results for the minutes before the first whole
5-minute bucket. Rollups are written as results come in, so the open bucket
of each tier already holds the newest results: only the far edge of a window
needs the finer tiers. Where a finer tier has already forgotten that edge, the
coarser tier's whole bucket stands in for it (a window of 90 days then starts
at an hour boundary instead of to the second).

A server's figures add up its public checks that are switched on: the
checks visitors see (a check staff switched off counts nowhere).

How much of a window its figure covers (so that two minutes of data never
read as "the last 90 days"):

- the data of a check starts with its first recorded result, wherever that
  is: not with its first result inside the window, and not when the check was
  created (a check that never ran has no data). It is read from the finest
  tier that still holds it in full: exact to the second while raw results
  are kept, then to its 5-minute bucket, hour or day as the finer tiers
  forget it, like the edge of a window;
- the data of a server starts with the first result of any of its public
  checks: a check added later than the others does not shorten the server's
  windows; its own figures (in the API) start with its own first result;
- a window is complete when its data started at or before the window's
  start. Otherwise its figure covers the time ``since`` that first result,
  and every longer window covers the same results;
- a gap in the data (the runner stopped, a check disabled for a while) does
  not make a window incomplete and is not subtracted from ``covered_seconds``:
  the figure is a share of the results measured, which a gap neither raises
  nor lowers, and the days of the gap show as "no data" in the daily bars;
- a first result stored in the future (a clock set wrong) counts as now;
  results stored for a later day count in no figure, as in no bar.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from typing import Any, Mapping, NamedTuple

from flask import current_app
from sqlalchemy import (BigInteger, CompoundSelect, Integer, LargeBinary, Select, bindparam, cast, func, literal_column,
                        null, select, union_all)

from ..checks.models import Check
from ..checks.status import public_checks
from ..models import Server, Visibility
from ..plain_rows import plain_rows
from .blocks import count_statuses as block_counts
from .blocks import covering as blocks_covering
from .blocks import first_block_columns, first_bucket
from .models import HistoryRollup
from .raw import count_statuses as raw_counts
from .raw import covering as raw_covering
from .raw import first_row_columns, first_second
from .revision import current_revision
from .rollup import epoch_seconds, uptime_ratio
from .tiers import DAILY, PACKED_TIERS, RAW_RETENTION_KEY, TIERS, keeps_from, retention_cutoff

#: The windows the site reports, by the key the API uses.
WINDOWS: dict[str, timedelta] = {"24h": timedelta(hours=24), "7d": timedelta(days=7),
                                 "30d": timedelta(days=30), "90d": timedelta(days=90)}


@dataclass(frozen=True)
class Stretch:
    """A part of a window read from one tier: raw results when ``width`` is None."""

    width: int | None
    start: int
    end: int


def plan_window(start: int, now: datetime, config: Mapping[str, Any]) -> list[Stretch]:
    """Split the window from ``start`` (epoch seconds) to ``now`` into stretches, finest first."""
    finer = [(None, RAW_RETENTION_KEY)] + [(tier.width, tier.retention_key) for tier in TIERS[:-1]]
    stretches = []
    edge = start
    for (width, retention_key), coarser in zip(finer, TIERS):
        cutoff = retention_cutoff(config, retention_key, now)
        if cutoff is not None and edge < cutoff:
            # This tier has forgotten the edge: the coarser bucket holding it stands in.
            edge -= edge % coarser.width
            continue
        end = -(-edge // coarser.width) * coarser.width  # the first coarser boundary from the edge on
        if end > edge:
            stretches.append(Stretch(width, edge, end))
        edge = end
    # Up to the end of today, as the bars: a result stored for a later day (a clock set wrong) counts nowhere.
    stretches.append(Stretch(DAILY.width, edge, DAILY.bucket_start(epoch_seconds(now)) + DAILY.width))
    return stretches


def windows_uptime(check_ids: Sequence[int], starts: Sequence[datetime], now: datetime) -> list[float | None]:
    """The uptime of some checks (together) from each of ``starts`` to ``now``, every window in one query.

    A window in which nothing was measured is None.
    """
    if not check_ids:
        return [None] * len(starts)
    stretches = [(index, stretch) for index, start in enumerate(starts)
                 for stretch in plan_window(epoch_seconds(start), now, current_app.config)]
    values: dict[str, Any] = {"ids": list(check_ids)}
    for part, (_, stretch) in enumerate(stretches):
        values[f"start{part}"], values[f"end{part}"] = stretch.start, stretch.end
    found = {index: [0, 0, 0] for index in range(len(starts))}
    packed: dict[int, list] = defaultdict(list)
    query = _windows_query(tuple(stretch.width for _, stretch in stretches))
    for up, degraded, down, *packed_row, part in plain_rows(query, values):
        if packed_row[-1] is not None:
            packed[part].append(packed_row)
            continue
        index = stretches[part][0]
        # int(): PostgreSQL adds integers up into numerics.
        found[index] = [total + int(count or 0) for total, count in zip(found[index], (up, degraded, down))]
    for part, rows in packed.items():
        index, stretch = stretches[part]
        tier = TIER_BY_WIDTH.get(stretch.width)
        counts = (raw_counts(rows, stretch.start, stretch.end) if tier is None
                  else block_counts(tier, rows, stretch.start, stretch.end))
        found[index] = [total + count for total, count in zip(found[index], counts)]
    return [uptime_ratio(*found[index]) for index in range(len(starts))]


#: The packed tiers by bucket width.
TIER_BY_WIDTH = {tier.width: tier for tier in PACKED_TIERS}


@cache
def _windows_query(widths: tuple[int | None, ...]) -> CompoundSelect:
    """SQL: the counts of every stretch of some windows, one part per stretch of these ``widths`` in turn.

    Built once per process for each shape of stretches (a handful: where the edges of the windows fall), and
    sent with the checks (``ids``) and the bounds of each part *n* (``startn``, ``endn``): building the
    statement anew for every page would cost more than the database takes to answer it.
    """
    ids = bindparam("ids", expanding=True)
    return union_all(*(
        _stretch_counts(ids, width, bindparam(f"start{part}", type_=BigInteger),
                        bindparam(f"end{part}", type_=BigInteger)).add_columns(literal_column(str(part)).label("part"))
        for part, width in enumerate(widths)))


def _stretch_counts(check_ids, width: int | None, start, end):
    """SQL: the up, degraded and down results of some checks in one stretch (one row, or none from a tier).

    Raw results (``width`` None) and the finer tiers are packed (see
    packing.py and blocks.py), so their stretches give packed rows instead,
    to be counted in Python: columns up, degraded, down, then check_id, start
    and bytes of a packed row, the ones or the others NULL.
    """
    tier = TIER_BY_WIDTH.get(width)
    if width is None or tier is not None:
        rows = (raw_covering(check_ids, start, end) if tier is None
                else blocks_covering(check_ids, tier, start, end)).subquery()
        return select(*([cast(null(), BigInteger)] * 3), *rows.c)
    sums = (func.sum(getattr(HistoryRollup, name)).label(name) for name in ("up", "degraded", "down"))
    return select(*sums, cast(null(), Integer), cast(null(), BigInteger), cast(null(), LargeBinary)).where(
        HistoryRollup.check_id.in_(check_ids), HistoryRollup.width == width,
        HistoryRollup.bucket_start >= start, HistoryRollup.bucket_start < end)


#: Where a check's first result can be found, by bucket width: each tier, and the raw results as buckets one
#: second wide; with the retention key of each.
SOURCES = {**{tier.width: tier.retention_key for tier in TIERS}, 1: RAW_RETENTION_KEY}


def first_results(check_ids: Sequence[int], now: datetime) -> dict[int, int]:
    """The epoch second of each check's first recorded result, in one query; checks without any are left out.

    The earliest bucket of each tier (and the earliest raw result) is read,
    and the finest one that still holds everything from the coarser bucket on
    gives the time: a tier that has forgotten part of that bucket only knows a
    later result.
    """
    if not check_ids:
        return {}
    found = {}
    for check_id, *columns in plain_rows(_first_results_query(), {"ids": list(check_ids)}):
        starts = []
        for tier in TIERS:
            if tier.block is None:
                starts.append(columns.pop(0))
            else:
                starts.append(first_bucket(check_id, tier, columns.pop(0), columns.pop(0)))
        starts.append(first_second(check_id, *columns))
        known = {width: start for width, start in zip(SOURCES, starts) if start is not None}
        if known:
            found[check_id] = _first_result(known, now)
    return found


@cache
def _first_results_query() -> Select:
    """``first_results``' query, built once per process and sent with the checks (``ids``).

    The earliest row per check and source, in the order of SOURCES, each a
    single step down the primary key: a packed row's first bucket or result
    is read from its bytes.
    """
    earliest = []
    for tier in TIERS:
        if tier.block is None:
            earliest.append(select(func.min(HistoryRollup.bucket_start)).where(
                HistoryRollup.check_id == Check.id, HistoryRollup.width == tier.width).scalar_subquery())
        else:
            earliest.extend(first_block_columns(Check.id, tier))
    earliest.extend(first_row_columns(Check.id))
    return select(Check.id, *earliest).where(Check.id.in_(bindparam("ids", expanding=True)))


def _first_result(earliest: Mapping[int, int], now: datetime) -> int:
    """The first result from the earliest bucket of each source (keyed by width), refined from coarse to fine."""
    (holder, first), *finer = sorted(earliest.items(), reverse=True)
    for width, start in finer:
        # Earlier than the coarser sources: they have forgotten it (their retention is shorter than this one's).
        earlier = start < first
        inside = start < first + holder and keeps_from(current_app.config, SOURCES[width], width, first, now)
        if earlier or inside:
            first, holder = start, width
    return first


@dataclass(frozen=True)
class WindowUptime:
    """The uptime of one window and how much of the window the data behind it covers."""

    #: up / (up + degraded + down), or None when nothing was measured in the window.
    uptime: float | None
    #: Where the window starts: its length before ``now``.
    start: datetime
    #: Where the data behind the figure starts: the window's start, or the first recorded result when that
    #: is later; None when nothing was ever recorded.
    since: datetime | None
    now: datetime

    @property
    def complete(self) -> bool:
        """Whether the data covers the whole window."""
        return self.since == self.start

    @property
    def covered_seconds(self) -> int:
        """How much of the window the data covers, gaps included, in whole seconds."""
        return 0 if self.since is None else int((self.now - self.since).total_seconds())

    def as_json(self) -> dict[str, Any]:
        """The window for API clients."""
        return {"uptime": self.uptime, "since": self.since and self.since.isoformat(timespec="milliseconds"),
                "covered_seconds": self.covered_seconds, "complete": self.complete}


def window_uptimes(check_ids: Sequence[int], first_result: int | None, now: datetime) -> dict[str, WindowUptime]:
    """The uptime of some checks over each window in WINDOWS, given their first result (epoch seconds or None)."""
    starts = [now - length for length in WINDOWS.values()]
    ratios = windows_uptime(check_ids, starts, now)
    if first_result is not None:
        # A stored time is untrusted: clamped into the window, it can neither overflow nor lie in the future.
        first_result = min(max(first_result, epoch_seconds(starts[-1])), epoch_seconds(now))
    return {key: WindowUptime(ratio, start, None if first_result is None else
                              max(start, datetime.fromtimestamp(first_result, timezone.utc)), now)
            for key, start, ratio in zip(WINDOWS, starts, ratios)}


def uptimes(check_ids: Sequence[int], now: datetime) -> dict[str, WindowUptime]:
    """The uptime of some checks together over each window in WINDOWS, with the data behind each."""
    return window_uptimes(check_ids, min(first_results(check_ids, now).values(), default=None), now)


def uptime_json(windows: Mapping[str, WindowUptime]) -> dict[str, Any]:
    """The API's uptime: each window's ratio (0 to 1, or null) under its key, and under "windows" its coverage.

    {"24h": 0.999, ..., "90d": 0.98, "windows": {"24h": {"uptime": 0.999, "since": ISO time or null,
    "covered_seconds": 86400, "complete": true}, ...}}: a window that is not
    complete covers only ``covered_seconds``, from ``since`` on.
    """
    return {**{key: window.uptime for key, window in windows.items()},
            "windows": {key: window.as_json() for key, window in windows.items()}}


def check_uptime(check: Check, now: datetime) -> dict[str, Any]:
    """Uptime of one check for the API, as ``uptime_json`` gives it."""
    return uptime_json(uptimes([check.id], now))


def server_uptime(server: Server, now: datetime) -> dict[str, Any]:
    """Uptime of a server's public checks together, for the API as in ``check_uptime``."""
    return uptime_json(uptimes(public_check_ids(server), now))


def public_check_ids(server: Server) -> list[int]:
    """The checks that make up a server's public figures: those visitors see (none for an internal server)."""
    return [check.id for check in public_checks(server)]


class DayBar(NamedTuple):
    """One UTC day of a server's public checks, from the daily rollups.

    A tuple: every page builds and compares ninety of them per public server.
    """

    day: date
    up: int = 0
    degraded: int = 0
    down: int = 0
    unknown: int = 0
    maintenance: int = 0

    @property
    def uptime(self) -> float | None:
        """up / (up + degraded + down), or None when nothing was measured that day."""
        return uptime_ratio(self.up, self.degraded, self.down)


def daily_bars(server: Server, now: datetime, days: int = 90) -> list[DayBar]:
    """One bar per UTC day for the ``days`` days up to today, oldest first."""
    return daily_bars_by_server(now, days, server_ids=[server.id]).get(server.id) or empty_bars(now, days)


def empty_bars(now: datetime, days: int) -> list[DayBar]:
    """``days`` bars up to today without data."""
    return list(_empty_bars(now.astimezone(timezone.utc).date(), days))


@lru_cache(maxsize=4)
def _empty_bars(today: date, days: int) -> tuple[DayBar, ...]:
    """The bars without data of the ``days`` days up to ``today``: the same all day long for every page."""
    return tuple(DayBar(today - timedelta(days=back)) for back in range(days - 1, -1, -1))


@cache
def _daily_sums_query() -> Select:
    """The daily rollups of public checks summed per server and day, from ``first`` to ``end`` (epoch seconds).

    Built once per process: every page draws the strips, and building the statement would cost more than
    SQLite takes to answer it.
    """
    sums = [func.sum(getattr(HistoryRollup, name)) for name in ("up", "degraded", "down", "unknown", "maintenance")]
    return (select(Check.server_id, HistoryRollup.bucket_start, *sums)
            .join(Check, Check.id == HistoryRollup.check_id)
            .join(Server, Server.id == Check.server_id)
            .where(Check.enabled, Check.visibility == Visibility.PUBLIC, Server.visibility == Visibility.PUBLIC,
                   HistoryRollup.width == DAILY.width, HistoryRollup.bucket_start >= bindparam("first"),
                   HistoryRollup.bucket_start < bindparam("end"))
            .group_by(Check.server_id, HistoryRollup.bucket_start))


def daily_bars_by_server(now: datetime, days: int = 90, *,
                         server_ids: Sequence[int] | None = None) -> dict[int, list[DayBar]]:
    """``daily_bars`` of every public server with data (or of ``server_ids``).

    Only daily rollups are read: a year of them is 365 rows per check. The
    days before today are summed once per worker and history revision (see
    ``_days_over``); today's bar on every call.
    """
    bars = _empty_bars(now.astimezone(timezone.utc).date(), days)
    first = epoch_seconds(datetime.combine(bars[0].day, time(), timezone.utc))
    today = first + (days - 1) * DAILY.width
    by_server = {server_id: [*over, bars[-1]] for server_id, over in _days_over(bars, first, today).items()}
    for server_id, counts in _sums_by_server(today, today + DAILY.width).items():
        server_bars = by_server.get(server_id)
        if server_bars is None:
            server_bars = by_server[server_id] = list(bars)
        server_bars[-1] = DayBar(bars[-1].day, *counts[0][1])
    if server_ids is not None:
        return {server_id: by_server[server_id] for server_id in server_ids if server_id in by_server}
    return by_server


#: Where each application keeps the sums of days over: {(first day, today): (revision, bars by server)}.
KEPT_KEY = "ninerstatus.days_over"
#: Spans of days kept per application (the sidebar and the API each ask for one).
KEPT_SPANS = 4


def _days_over(bars: tuple[DayBar, ...], first: int, today: int) -> dict[int, tuple[DayBar, ...]]:
    """The bars of each public server with data from ``first`` up to (not with) ``today``, in epoch seconds.

    Kept per application and worked out again only when the history
    revision (read first, so that what is summed after it is at least as new)
    has moved on, or the days have: a day over changes only when revision.py
    says so. The kept values are never changed, only replaced, so that many
    threads read them safely.
    """
    kept: dict = current_app.extensions.setdefault(KEPT_KEY, {})
    revision = current_revision()
    span = (first, today)
    found = kept.get(span)
    if found is not None and found[0] == revision:
        return found[1]
    over = {}
    for server_id, counts in _sums_by_server(first, today).items():
        server_bars = list(bars[:-1])
        for start, sums in counts:
            day = (start - first) // DAILY.width
            server_bars[day] = DayBar(bars[day].day, *sums)
        over[server_id] = tuple(server_bars)
    if len(kept) >= KEPT_SPANS and span not in kept:
        kept.clear()  # yesterday's spans: they are no longer asked for
    kept[span] = (revision, over)
    return over


def _sums_by_server(first: int, end: int) -> dict[int, list[tuple[int, tuple[int, ...]]]]:
    """The daily sums of each public server with data from ``first`` to ``end``: [(day start, counts)] by server."""
    found: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
    for server_id, start, *counts in plain_rows(_daily_sums_query(), {"first": first, "end": end}):
        # int(): PostgreSQL adds integers up into numerics.
        found[server_id].append((start, tuple(map(int, counts))))
    return found
