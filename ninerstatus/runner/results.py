"""Recording what the probes saw: latest results, flap damping, quorum, events, hooks, history and server states.

Every result is recorded at its location (the site's runner, or an agent;
see locations.py): that location's row keeps it and damps it, then the
check's own columns take what its locations add up to. The runner's results
(``record_results``) and an agent's batch (``record_located``) go through
the same steps, so a check reads the same however its results arrived.

A batch of results is written in one short transaction, the checks' rows
with one statement for all of them: they are read and written as plain
columns, since loading and flushing ``Check`` objects cost the runner more
than its probes do, and each statement is written for all its rows at once,
without a savepoint, handed to the database driver as compiled once (see
driver_rows.py): SQLAlchemy's work on each row's parameters cost more than
the database's own. A row the database refuses spoils that transaction:
the batch is recorded again in a new one, each row written alone, so one bad
row costs its own result, not the batch's. The history recorder and
each plugin's hook implementation run inside the transaction, each in a
savepoint: a notifier that queues a message does so atomically with the
state change it reports, and one that raises is rolled back alone and
logged, while the runner and the other plugins carry on. Hooks get the
``Check`` objects as the batch left them, loaded only when some plugin
listens. A result older than the one its location already has (a batch
tried again after a failure, once another probe got in) is not recorded
over it.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, case, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..agents.locations import site_location
from ..agents.models import Location
from ..checks.models import Check
from ..columns import EncodedJSON, encoded_json
from ..driver_rows import driver_statement
from ..extensions import db
from ..history.located import record_location_samples
from ..history.recorder import padded, record_samples
from ..history.rollup import Sample
from ..plugins import Plugins
from ..probing import ProbeResult, Status
from .claims import Claim
from .damping import StateChange, apply_result, state_name
from .locations import (INSERT_LOCATION, UPDATE_LOCATION, LocationRow, combination, load_results, new_row,
                        read_checks)
from .maintenance import WindowsByServer, active_window, windows_by_server
from .models import StatusEvent
from .servers import update_servers
from .transactions import RowRefused, call_hook, guarded, rows_at_once_else_one_by_one

log = logging.getLogger(__name__)


class Outcome(NamedTuple):
    """A finished probe: its claim, its result, and whether its check's next probe belongs in the slow lane."""

    claim: Claim
    result: ProbeResult
    slow: bool


@dataclass
class CheckRow:
    """The columns of a check that recording a result reads and changes."""

    id: int
    server_id: int
    last_checked_at: datetime | None
    state: str
    state_since: datetime | None
    consecutive_failures: int
    consecutive_successes: int
    failures_before_down: int
    successes_before_up: int
    interval_seconds: int
    quorum: int | None


_ROW_COLUMNS = tuple(getattr(Check, name) for name in CheckRow.__dataclass_fields__)
_checks = Check.__table__
# The lease is given up only if this runner still holds it, as the row says when it is written.
_RELEASE = {"lease_owner": case((_checks.c.lease_owner == bindparam("owner"), None), else_=_checks.c.lease_owner),
            "lease_until": case((_checks.c.lease_owner == bindparam("owner"), None), else_=_checks.c.lease_until)}
_COMBINED_VALUES = {
    "last_result": bindparam("result", type_=EncodedJSON()),
    "last_checked_at": bindparam("checked_at", type_=_checks.c.last_checked_at.type),
    "consecutive_failures": bindparam("failures"), "consecutive_successes": bindparam("successes"),
    "state": bindparam("new_state"), "state_since": bindparam("since", type_=_checks.c.state_since.type)}
_by_id = _checks.update().where(_checks.c.id == bindparam("check_id"))
#: A check's combined state as the runner writes it (its lease given up, its lane chosen), and as an agent's batch does.
_RECORDED = _by_id.values(**_COMBINED_VALUES, slow_lane=bindparam("slow"), **_RELEASE)
_COMBINED = _by_id.values(**_COMBINED_VALUES)
_RELEASED = _by_id.values(**_RELEASE)


def record_results(owner: str, outcomes: Sequence[Outcome], plugins: Plugins, now: datetime) -> None:
    """Store ``outcomes`` of ``owner``'s claims, the site's runner's results, and everything that follows from them."""
    if not outcomes:
        return

    def record(one_by_one: bool) -> None:
        recording = Recording(db.session, [outcome.claim.check_id for outcome in outcomes],
                              min(outcome.result.checked_at for outcome in outcomes), now, one_by_one)
        site = site_location()
        released = []
        for claim, result, slow in outcomes:
            if not recording.add(site, claim.check_id, result, owner=owner, slow=slow) \
                    and claim.check_id in recording.checks:
                released.append({"check_id": claim.check_id, "owner": owner})
        recording.finish(plugins, _RECORDED, _write(db.session, _RELEASED, released, one_by_one=one_by_one))

    rows_at_once_else_one_by_one(record)


def record_located(location: Location, results: Sequence[tuple[int, ProbeResult]], plugins: Plugins,
                   now: datetime, one_by_one: bool = False) -> None:
    """Store ``results`` (check id, result) that ``location``'s agent sent, in the caller's write transaction.

    Results of one check are taken in the order of their times, as if they had been probed here.
    ``one_by_one``: as ``Recording``'s (``RowRefused`` when a row is refused while it is False).
    """
    if not results:
        return
    recording = Recording(db.session, {check_id for check_id, _ in results},
                          min(result.checked_at for _, result in results), now, one_by_one)
    for check_id, result in sorted(results, key=lambda item: item[1].checked_at):
        recording.add(location, check_id, result)
    recording.finish(plugins, _COMBINED)


@dataclass
class Recording:
    """Results of one transaction being recorded: the rows they change, and what follows from them."""

    session: Any
    check_ids: Iterable[int]
    # The earliest result's time: every maintenance window open since then counts.
    earliest: datetime
    now: datetime
    # Each row written on its own, in a savepoint, leaving out those refused; else all at once (see ``_write``).
    one_by_one: bool = False
    checks: dict[int, CheckRow] = field(init=False)
    locations: dict[int, list[LocationRow]] = field(init=False)
    windows: WindowsByServer = field(init=False)
    # What each recorded result left: the check's row, its combined result, the change it confirmed.
    recorded: list[tuple[CheckRow, ProbeResult, StateChange | None]] = field(default_factory=list)
    # The check's confirmed changes, each with when it took effect.
    events: list[tuple[int, datetime, StateChange]] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    # Each result as its location saw it, for that location's own history.
    located_samples: list[tuple[int, Sample]] = field(default_factory=list)
    # The check's written values, by id, with what the statement of the caller adds (the runner's lease).
    written: dict[int, dict[str, Any]] = field(default_factory=dict)
    changed_locations: dict[tuple[int, int], LocationRow] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks, self.locations = read_checks(self.session, _ROW_COLUMNS, self.check_ids)
        self.checks = {row.id: row for row in (CheckRow(*values) for values in checks)}
        # Every window of these checks' servers open at any of these results, even one that closed since.
        self.windows = windows_by_server(self.earliest, {row.server_id for row in self.checks.values()})

    def add(self, location: Location, check_id: int, result: ProbeResult, **extra: Any) -> bool:
        """Record ``result`` of check ``check_id`` from ``location``; False when it is not recorded.

        Not recorded: a check deleted meanwhile, and a result no newer than
        the location's latest (see ``_already_newer``).
        """
        row = self.checks.get(check_id)
        if row is None:
            return False
        located = self._location_row(row, location)
        if _already_newer(located.last_checked_at, result, self.now):
            return False
        located.failures_before_down, located.successes_before_up = row.failures_before_down, row.successes_before_up
        located.take(result)
        apply_result(located, result)
        self.changed_locations[check_id, located.location_id] = located
        combined = combination(self.locations[check_id], row.quorum, row.interval_seconds, result.checked_at,
                               result)
        change = _settle(row, located, combined.confirmed.status, combined.result, result.checked_at)
        # A check with one location holds that location's result: the same stored form serves both rows.
        stored = located.encoded_result if combined.result is result else encoded_json(combined.result.to_dict())
        self.written[check_id] = {"check_id": check_id, "result": stored,
                                  "checked_at": row.last_checked_at, "failures": row.consecutive_failures,
                                  "successes": row.consecutive_successes, "new_state": row.state,
                                  "since": row.state_since, **extra}
        # History keeps what the locations' latest results add up to, as it kept each result of one runner.
        in_maintenance = active_window(self.windows.get(row.server_id, []), result.checked_at) is not None
        seen = Sample.of(check_id, result, in_maintenance=in_maintenance)
        self.samples.append(seen if combined.latest.status is result.status else
                            Sample.of(check_id, replace(result, status=combined.latest.status),
                                      in_maintenance=in_maintenance))
        self.located_samples.append((located.location_id, seen))
        self.recorded.append((row, combined.result, change))
        if change is not None:
            self.events.append((check_id, result.checked_at, change))
        return True

    def _location_row(self, row: CheckRow, location: Location) -> LocationRow:
        """``location``'s row of the check ``row``, made when it has none (the site's runner's first result).

        A new row of the site's runner starts from the check's own columns, as
        the migration that brought locations started every check's: a site
        without agents carries on exactly as before.
        """
        located = self.locations.setdefault(row.id, [])
        for candidate in located:
            if candidate.location_id == location.id:
                return candidate
        fresh = new_row(row.id, location)
        if location.is_site:
            fresh.last_checked_at, fresh.state, fresh.state_since = row.last_checked_at, row.state, row.state_since
            fresh.consecutive_failures = row.consecutive_failures
            fresh.consecutive_successes = row.consecutive_successes
        located.append(fresh)
        if len(located) == 2:  # the other location's result was not read: a check with one location needs none
            load_results(self.session, [located])
        return fresh

    def finish(self, plugins: Plugins, statement, refused: Iterable[int] = ()) -> None:
        """Write the rows with the check's ``statement``, then the events, history, hooks and server states.

        ``refused``: checks already left out by the caller's own writes.
        """
        located = list(self.changed_locations.values())
        refused = set(refused)
        one_by_one = self.one_by_one
        refused |= _write(self.session, UPDATE_LOCATION, [row.values() for row in located if row.stored], "v_check_id",
                          one_by_one=one_by_one)
        refused |= _write(self.session, INSERT_LOCATION, [row.values() for row in located if not row.stored],
                          "v_check_id", one_by_one=one_by_one)
        refused |= _write(self.session, statement,
                          [values for check_id, values in self.written.items() if check_id not in refused],
                          one_by_one=one_by_one)
        recorded = [item for item in self.recorded if item[0].id not in refused]
        samples = [sample for sample in self.samples if sample.check_id not in refused]
        if not recorded:
            return
        for check_id, moment, change in self.events:
            if check_id not in refused:
                self.session.add(StatusEvent(check_id=check_id, occurred_at=moment, previous=change.previous,
                                             current=change.current, summary=change.result.summary[:300]))
        guarded("history recorder", record_samples, samples)
        guarded("per-location history recorder", record_location_samples,
                [item for item in self.located_samples if item[1].check_id not in refused])
        _call_hooks(self.session, plugins, recorded)
        update_servers({row.server_id for row, _, change in recorded if change is not None}, self.windows, self.now)


def _settle(row: CheckRow, located: LocationRow, status: Status, combined: ProbeResult,
            moment: datetime) -> StateChange | None:
    """Give the check ``row`` its locations' combined state at ``moment``; return the change, if any.

    As ``apply_result`` for one location: a check never judged is judged from
    its first result on, and a change takes effect when the result that
    confirmed it was probed.
    """
    judged_before = row.state_since is not None
    row.consecutive_failures, row.consecutive_successes = located.consecutive_failures, located.consecutive_successes
    if row.last_checked_at is None or combined.checked_at > row.last_checked_at:
        row.last_checked_at = combined.checked_at
    if not judged_before:
        row.state_since = moment
    current = state_name(status)
    if current == row.state:
        return None
    previous = row.state if judged_before else None
    row.state, row.state_since = current, moment
    return StateChange(row.id, previous, current, combined)


def _write(session, statement, parameters: list[dict], key: str = "check_id", *, one_by_one: bool) -> set[int]:
    """Run ``statement`` for every set of ``parameters``; return the checks (each set's ``key``) whose rows refused it.

    All at once, unless ``one_by_one``: a row the database refuses then
    raises ``RowRefused`` (the transaction is spoilt; see
    ``rows_at_once_else_one_by_one``). One by one, each in a savepoint, so
    the rows it takes are written and only the others left out. A database
    that cannot be reached (or is busy) refuses nothing in particular: that
    error ends the transaction, and the loop offers the batch again.
    """
    if not parameters:
        return set()
    connection = session.connection()
    written = driver_statement(statement, connection.dialect)
    if not one_by_one:
        try:
            written.execute(connection, parameters)
        except DBAPIError as error:
            if _not_the_rows(error):
                raise
            raise RowRefused(f"the database refused a row of {len(parameters)} ({type(error.orig).__name__})") \
                from error
        return set()
    refused = set()
    for values in parameters:
        try:
            # A savepoint of the connection, as the history recorder's: nothing of the ORM waits to be flushed.
            with connection.begin_nested():
                written.execute(connection, [values])
        except DBAPIError as error:
            if _not_the_rows(error):
                raise
            log.error("the result of check %s cannot be stored, so it is left out: %s", values[key], error)
            refused.add(values[key])
    return refused


def _not_the_rows(error: DBAPIError) -> bool:
    """True for a failure of the database or the connection rather than of the rows written."""
    return error.connection_invalidated or isinstance(error, (OperationalError, InterfaceError))


def _call_hooks(session, plugins: Plugins, recorded: list[tuple[CheckRow, ProbeResult, StateChange | None]]) -> None:
    """Tell the plugins about each result and each change, with the ``Check`` as recorded."""
    every_result = bool(plugins.hook.ninerstatus_probe_completed.get_hookimpls())
    wanted = [row.id for row, _, change in recorded if every_result or change is not None]
    if not wanted:
        return
    checks = {check.id: check for check in session.scalars(select(Check).where(Check.id.in_(padded(wanted))))}
    for row, result, change in recorded:
        check = checks.get(row.id)
        if check is None:
            continue
        if every_result:
            call_hook(plugins, "ninerstatus_probe_completed", check=check, result=result)
        if change is not None:
            call_hook(plugins, "ninerstatus_status_changed", check=check, previous=change.previous,
                      current=change.current, result=result)


def _already_newer(stored: datetime | None, result: ProbeResult, now: datetime) -> bool:
    """True when a location holds ``result`` or a later one (a batch offered again after a failed commit).

    A stored time in the future (a hand edit, a clock set back) is not believed:
    it would otherwise keep every new result out for good.
    """
    return stored is not None and result.checked_at <= stored <= now
