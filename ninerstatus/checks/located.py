"""What each location saw last of a check, as visitors and drafted incidents are told it.

A check probed from several locations (the site's runner and agents) keeps
each location's latest result in ``check_locations`` (see
runner/locations.py). Visitors see them on a server's page (a location by
service grid), in ``/api/servers`` (each check's ``locations``) and in the
incidents the probes draft ("unreachable from MTN (Lusaka)"). Everything
here reads those rows in one query, for the active locations only (the
site's runner, and agents whose token works: a revoked location says
nothing any more).

Every stored value is untrusted: a latest result that cannot be read is an
UNKNOWN one that says "unreadable result", a state no status names is no
opinion, and a location's name is shown escaped like any other text.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select

from ..agents.models import CheckLocation, Location
from ..agents.quorum import is_fresh
from ..extensions import db
from ..per_request import once_per_request
from ..probing import ErrorKind, ProbeResult, Status
from .models import Check

if TYPE_CHECKING:
    from .listing import ListedCheck

#: The locations that count: the site's runner always, an agent while its token works.
ACTIVE_LOCATION = or_(Location.is_site.is_(True),
                      and_(Location.token_hash.is_not(None), Location.revoked_at.is_(None)))
#: How many active locations probe a check, as a column of a query of checks (``checks.listing`` reads it).
LOCATION_COUNT = (select(func.count()).select_from(CheckLocation)
                  .join(Location, Location.id == CheckLocation.location_id)
                  .where(CheckLocation.check_id == Check.id, ACTIVE_LOCATION)
                  .correlate(Check).scalar_subquery().label("locations"))
#: What a cell says when the location's stored result cannot be read back.
UNREADABLE = "unreadable result"


@dataclass(frozen=True)
class LocatedResult:
    """One location's latest result of one check, and whether it is recent enough to count."""

    check_id: int
    location_id: int
    name: str
    city: str
    country: str
    network: str
    is_site: bool
    # The location's latest result; None before its first.
    result: ProbeResult | None
    checked_at: datetime | None
    # The location's own confirmed state (None when it names no status or was never judged).
    confirmed: Status | None
    confirmed_since: datetime | None
    fresh: bool
    # False when the stored result could not be read back.
    readable: bool = True

    @property
    def label(self) -> str:
        """The location as the site names it: "Lusaka (MTN)", or its name alone."""
        return f"{self.name} ({self.network})" if self.network else self.name

    @property
    def place(self) -> str:
        """City and country as one phrase, skipping whichever is missing."""
        return ", ".join(part for part in (self.city, self.country) if part)

    @property
    def network_words(self) -> str:
        """The location as a customer places themselves: "MTN (Lusaka)", by network first."""
        where = self.city or self.name
        return f"{self.network} ({where})" if self.network and where != self.network else self.network or where

    @property
    def css(self) -> str:
        """The class name the stylesheet colours by, as a check's widget: the status, or "nodata" when not fresh."""
        return self.status.label if self.fresh else "nodata"

    @property
    def status(self) -> Status:
        """The latest result's status: UNKNOWN before the first, or for one that cannot be read."""
        return self.result.status if self.result is not None and self.readable else Status.UNKNOWN

    @property
    def summary(self) -> str:
        """The latest result's one-line summary, or why there is none."""
        if not self.readable:
            return UNREADABLE
        return self.result.summary if self.result is not None else "no result yet"

    @property
    def error_kind(self) -> ErrorKind | None:
        """How the latest result failed, when it did and says so."""
        return self.result.error_kind if self.result is not None and self.readable else None


_COLUMNS = (CheckLocation.check_id, CheckLocation.location_id, CheckLocation.last_result,
            CheckLocation.last_checked_at, CheckLocation.state, CheckLocation.state_since,
            Location.name, Location.city, Location.country, Location.network, Location.is_site)


def read_located(intervals: dict[int, int], now: datetime) -> dict[int, list[LocatedResult]]:
    """Each active location's latest result of the checks in ``intervals`` (check id: its interval), in one query.

    A check's locations come the site's runner first, then by label; a
    result older than three of its check's intervals is not fresh.
    """
    if not intervals:
        return {}
    located: dict[int, list[LocatedResult]] = defaultdict(list)
    statement = (select(*_COLUMNS).join(Location, Location.id == CheckLocation.location_id)
                 .where(CheckLocation.check_id.in_(list(intervals)), ACTIVE_LOCATION))
    for row in db.session.execute(statement):
        item = _located(row, intervals[row.check_id], now)
        located[item.check_id].append(item)
    for items in located.values():
        items.sort(key=location_order)
    return dict(located)


def location_order(item: LocatedResult) -> tuple:
    """Sort key of locations: the site's runner first, then by label."""
    return (not item.is_site, item.label.casefold(), item.location_id)


def _located(row, interval_seconds: int, now: datetime) -> LocatedResult:
    """One row as read, every column taken as untrusted."""
    checked_at = row.last_checked_at
    result, readable = _read_result(row.last_result)
    fresh = is_fresh(checked_at, int(interval_seconds or 1), now)
    confirmed = Status.__members__.get(str(row.state).upper()) if row.state_since is not None else None
    return LocatedResult(row.check_id, row.location_id, row.name or "", row.city or "", row.country or "",
                         row.network or "", bool(row.is_site), result, checked_at, confirmed, row.state_since,
                         fresh, readable)


def _read_result(stored) -> tuple[ProbeResult | None, bool]:
    """The stored latest result, and False when there is one that cannot be read back (a hand edit, cut short)."""
    if not stored:
        return None, True
    try:
        return ProbeResult.from_dict(stored), True
    except Exception:  # whatever the stored data holds: not an object, missing keys, wrong types, bad values
        return None, False


def several_locations(checks: Collection[ListedCheck]) -> list[ListedCheck]:
    """The checks among ``checks`` that more than one active location probes."""
    return [check for check in checks if check.locations > 1]


def located_of(checks: Collection[ListedCheck], now: datetime) -> dict[int, list[LocatedResult]]:
    """``read_located`` for listed ``checks``, each read at most once per request (one query for those not read yet)."""
    kept: dict[int, list[LocatedResult]] = once_per_request("located_results", dict)
    missing = {check.id: check.interval_seconds for check in checks if check.id not in kept}
    if missing:
        read = read_located(missing, now)
        kept.update({check_id: read.get(check_id, []) for check_id in missing})
    return {check.id: kept[check.id] for check in checks}
