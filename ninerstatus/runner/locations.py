"""A check's locations as the recording sees them: each location's own damped state, and what they add up to.

Every result is recorded at the location that probed it (the site's runner,
or an agent): its row in ``check_locations`` keeps the latest result and its
own flap damping, as a check did when there was one runner. The check's
own columns then hold the combination of its active locations (see
agents/quorum.py for the rule): its state is the quorum of the locations'
confirmed states, and its latest result says what the locations' latest
results add up to, in words for visitors ("Reachable from 3 of 4
locations. From Lusaka (MTN): connection timed out on port 587 since 10:02
UTC."). With one location, as on a site without agents, the check holds
exactly what that location saw.

Rows are read as plain columns on the session's connection, by queries
built once, and written as the checks' are, for the same reason (see
results.py); every stored value is untrusted: a state no status names
gives no opinion, a latest result that cannot be read is an UNKNOWN one.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, null, select

from ..agents.models import CheckLocation, Location
from ..agents.quorum import LocationState, Verdict, combine, is_fresh
from ..checks.located import ACTIVE_LOCATION
from ..checks.models import Check, stored_result
from ..checks.status import short_time
from ..columns import EncodedJSON, encoded_json
from ..history.recorder import padded
from ..probing import ProbeResult, Status

#: Failing locations named one by one in a check's summary; the rest are counted.
NAMED_AT_MOST = 3


@dataclass
class LocationRow:
    """One location's columns of one check (``apply_result`` works on it, with the check's thresholds)."""

    check_id: int
    location_id: int
    last_result: dict[str, Any] | None
    last_checked_at: datetime | None
    consecutive_failures: int
    consecutive_successes: int
    state: str
    state_since: datetime | None
    name: str
    network: str
    is_site: bool
    failures_before_down: int = 1
    successes_before_up: int = 1
    # False for a row that is not in the database yet (the site's runner's first result of a check).
    stored: bool = True
    # The latest result taken (``take``) as its column stores it, encoded once for this row and its check's.
    encoded_result: str | None = None
    # The latest result as read back, once (``latest``).
    _latest: ProbeResult | None = None

    @property
    def id(self) -> int:
        """The check's id, as ``apply_result`` names the check whose state changed."""
        return self.check_id

    @property
    def label(self) -> str:
        """The location as visitors read it: "Lusaka (MTN)", or its name alone."""
        return f"{self.name} ({self.network})" if self.network else self.name

    @property
    def latest(self) -> ProbeResult | None:
        """The latest result of the check from this location (an unreadable stored one is UNKNOWN)."""
        if self._latest is None:
            self._latest = stored_result(self.last_result, self.last_checked_at)
        return self._latest

    def take(self, result: ProbeResult) -> None:
        """Keep ``result`` as this location's latest."""
        self.encoded_result = encoded_json(result.to_dict())
        self.last_checked_at, self._latest = result.checked_at, result

    def values(self) -> dict[str, Any]:
        """The columns of a row that took a result, as ``UPDATE_LOCATION`` and ``INSERT_LOCATION`` take them."""
        values = {f"v_{name}": getattr(self, name) for name in _STORED}
        values["v_last_result"] = self.encoded_result
        return values


_ROW_COLUMNS = (CheckLocation.check_id, CheckLocation.location_id, null(), CheckLocation.last_checked_at, CheckLocation.consecutive_failures,
                CheckLocation.consecutive_successes, CheckLocation.state, CheckLocation.state_since,
                Location.name, Location.network, Location.is_site)
_table = CheckLocation.__table__
_KEY = ("check_id", "location_id")
_STORED = _KEY + ("last_result", "last_checked_at", "consecutive_failures", "consecutive_successes", "state",
                  "state_since")
# Bound as v_<column>: a statement may not bind a column's own name.
_VALUES = {name: bindparam(f"v_{name}", type_=EncodedJSON() if name == "last_result" else _table.c[name].type)
           for name in _STORED}
#: How a stored row is written back, and how a new one is added.
UPDATE_LOCATION = _table.update().where(*(_table.c[name] == _VALUES[name] for name in _KEY)).values(
    **{name: value for name, value in _VALUES.items() if name not in _KEY})
INSERT_LOCATION = _table.insert().values(**_VALUES)


def read_checks(session, check_columns: Sequence[Any], check_ids: Iterable[int]) -> tuple[list[Sequence[Any]],
                                                                                         dict[int, list[LocationRow]]]:
    """The ``check_columns`` (the id first) of each of ``check_ids``, and the rows of every active location of each:
    the site's first, then by label; in one query.

    The checks are locked in id order where rows lock (PostgreSQL), so that
    the runner and an agent's batch changing the same check wait for each
    other instead of writing over each other's state. The latest results
    are read only for checks with several locations: a check's only
    location is combined from the result it has just recorded, and reading
    back every stored result would cost the runner more than writing it.
    """
    width = len(check_columns)
    checks: dict[int, Sequence[Any]] = {}
    rows: dict[int, list[LocationRow]] = defaultdict(list)
    for values in session.connection().execute(_checks_query(tuple(check_columns)),
                                               {"ids": padded(list(check_ids))}):
        checks.setdefault(values[0], values[:width])
        row = LocationRow(*values[width:])
        if row.name is not None:  # else the check has no row yet, or this row's location is not active
            rows[values[0]].append(row)
    load_results(session, [located for located in rows.values() if len(located) > 1])
    return list(checks.values()), rows


@cache
def _checks_query(check_columns: tuple[Any, ...]) -> Select:
    """``read_checks``'s query of ``check_columns``, for a list of ids bound as ``ids``; built once for each."""
    # Joined one after the other: SQLite reads a join nested in an outer join by scanning all its rows.
    return (select(*check_columns, *_ROW_COLUMNS).select_from(Check)
            .outerjoin(CheckLocation, CheckLocation.check_id == Check.id)
            .outerjoin(Location, and_(Location.id == CheckLocation.location_id, ACTIVE_LOCATION))
            .where(Check.id.in_(bindparam("ids", expanding=True))).order_by(Check.id).with_for_update(of=Check))


_RESULTS_QUERY = (select(CheckLocation.check_id, CheckLocation.location_id, CheckLocation.last_result)
                  .where(CheckLocation.check_id.in_(bindparam("ids", expanding=True))))


def load_results(session, checks: Sequence[list[LocationRow]]) -> None:
    """Read the latest results of the location rows of ``checks`` (each a check's rows), and order each check's
    rows: the site's first, then by label."""
    if not checks:
        return
    ids = [located[0].check_id for located in checks]
    results = {(check_id, location_id): result for check_id, location_id, result in session.connection().execute(
        _RESULTS_QUERY, {"ids": padded(ids)})}
    for located in checks:
        for row in located:
            if row.stored:
                row.last_result = results.get((row.check_id, row.location_id))
        located.sort(key=lambda row: (not row.is_site, row.label.lower(), row.location_id))


def new_row(check_id: int, location: Location) -> LocationRow:
    """The unstored row of ``location`` for a check it has never recorded."""
    return LocationRow(check_id, location.id, None, None, 0, 0, "unknown", None, location.name,
                       location.network or "", location.is_site, stored=False)


def _confirmed_status(row: LocationRow) -> Status | None:
    """The location's confirmed state as a status; None before it was judged or when no status is named."""
    if row.state_since is None:
        return None
    return Status.__members__.get(str(row.state).upper())


@dataclass(frozen=True)
class Combination:
    """What a check's locations add up to at one moment: the quorum of confirmed states, and of latest results."""

    confirmed: Verdict
    latest: Verdict
    result: ProbeResult


def combination(rows: Sequence[LocationRow], quorum: int | None, interval_seconds: int, moment: datetime,
                recorded: ProbeResult) -> Combination:
    """Combine the check's location ``rows`` at ``moment``, just after ``recorded`` was taken into one of them.

    The check's latest result is ``recorded`` itself when the check has one
    location; else the newest of the locations' results, with the status the
    latest results add up to and a summary naming the locations that fail.
    """
    if len(rows) == 1:
        return _alone(rows[0], quorum, recorded)
    fresh = [is_fresh(row.last_checked_at, interval_seconds, moment) for row in rows]
    confirmed = combine([LocationState(row.label, _confirmed_status(row), ok)
                         for row, ok in zip(rows, fresh)], quorum)
    latest = combine([LocationState(row.label, row.latest.status if row.latest else None, ok)
                      for row, ok in zip(rows, fresh)], quorum)
    newest = max((row.latest for row in rows if row.latest is not None), key=lambda result: result.checked_at,
                 default=recorded)
    summary = located_summary([row for row, ok in zip(rows, fresh) if ok], latest, newest, moment)
    result = replace(newest, status=latest.status, summary=summary,
                     error_kind=newest.error_kind if latest.status is not Status.OK else None)
    return Combination(confirmed, latest, result)


def _alone(row: LocationRow, quorum: int | None, recorded: ProbeResult) -> Combination:
    """The combination of a check's one location, which has just recorded ``recorded`` (and so is fresh).

    What ``combine`` makes of it, without its lists: most checks have one
    location, and the runner records thousands of results a minute.
    """
    return Combination(_alone_verdict(row.label, _confirmed_status(row), quorum),
                       _alone_verdict(row.label, recorded.status, quorum), recorded)


@lru_cache(maxsize=256)
def _alone_verdict(label: str, status: Status | None, quorum: int | None) -> Verdict:
    """What ``combine`` makes of one fresh location saying ``status``: the same few verdicts again and again
    (a verdict is frozen, so one serves every check that gives the same)."""
    return combine((LocationState(label, status, True),), quorum)


def located_summary(fresh_rows: Sequence[LocationRow], latest: Verdict, newest: ProbeResult,
                    moment: datetime) -> str:
    """The check's summary from several locations, as the widget shows it.

    "Reachable from 3 of 4 locations. From Lusaka (MTN): connection timed out
    on port 587 since 10:02 UTC." A failure is dated from its location's
    confirmed change when there is one, else from its latest result; when
    nothing fails, the newest result's own fact follows.
    """
    if not latest.judges:
        return "No location has a recent result that says whether the service works."
    parts = [f"Reachable from {latest.reachable} of {latest.judges} location{'s' if latest.judges != 1 else ''}."]
    failing = [row for row in fresh_rows if row.latest is not None and row.latest.status is Status.CRITICAL]
    for row in failing[:NAMED_AT_MOST]:
        since = row.state_since if row.state == "critical" and row.state_since else row.last_checked_at
        parts.append(f"From {row.label}: {row.latest.summary.rstrip('.')} since {short_time(since, moment)}.")
    if len(failing) > NAMED_AT_MOST:
        parts.append(f"And from {len(failing) - NAMED_AT_MOST} more.")
    if not failing:
        parts.append(newest.summary)
    return " ".join(parts)
