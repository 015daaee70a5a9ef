"""Recording what the probes saw: latest results, flap damping, events, hooks, history and server states.

A batch of results is written in one short transaction, the checks' rows
with one statement for all of them: they are read and written as plain
columns, since loading and flushing ``Check`` objects cost the runner more
than its probes do. A row the database refuses is written again alone, so
one bad row costs its own result, not the batch's. The history recorder and
each plugin's hook implementation run inside the transaction, each in a
savepoint: a notifier that queues a message does so atomically with the
state change it reports, and one that raises is rolled back alone and
logged, while the runner and the other plugins carry on. Hooks get the
``Check`` objects as the batch left them, loaded only when some plugin
listens. A check's result older than the one it already has (a batch
tried again after a failure, once another probe got in) is not recorded
over it.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, case, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from ..checks.models import Check
from ..history.recorder import record_samples
from ..history.rollup import Sample
from ..plugins import Plugins
from ..probing import ProbeResult
from .claims import Claim
from .damping import StateChange, apply_result
from .maintenance import active_window, windows_by_server
from .models import StatusEvent
from .servers import update_servers
from .transactions import call_hook, guarded, write_transaction

log = logging.getLogger(__name__)


class Outcome(NamedTuple):
    """A finished probe: its claim, its result, and whether its check's next probe belongs in the slow lane."""

    claim: Claim
    result: ProbeResult
    slow: bool


@dataclass
class CheckRow:
    """The columns of a check that recording a result reads and changes (``apply_result`` works on it)."""

    id: int
    server_id: int
    last_checked_at: datetime | None
    state: str
    state_since: datetime | None
    consecutive_failures: int
    consecutive_successes: int
    failures_before_down: int
    successes_before_up: int


_ROW_COLUMNS = tuple(getattr(Check, name) for name in CheckRow.__dataclass_fields__)
_checks = Check.__table__
# The lease is given up only if this runner still holds it, as the row says when it is written.
_RELEASE = {"lease_owner": case((_checks.c.lease_owner == bindparam("owner"), None), else_=_checks.c.lease_owner),
            "lease_until": case((_checks.c.lease_owner == bindparam("owner"), None), else_=_checks.c.lease_until)}
_RECORDED = _checks.update().where(_checks.c.id == bindparam("check_id")).values(
    last_result=bindparam("result", type_=_checks.c.last_result.type),
    last_checked_at=bindparam("checked_at", type_=_checks.c.last_checked_at.type),
    slow_lane=bindparam("slow"), consecutive_failures=bindparam("failures"),
    consecutive_successes=bindparam("successes"), state=bindparam("new_state"),
    state_since=bindparam("since", type_=_checks.c.state_since.type), **_RELEASE)
_RELEASED = _checks.update().where(_checks.c.id == bindparam("check_id")).values(**_RELEASE)


def record_results(owner: str, outcomes: Sequence[Outcome], plugins: Plugins, now: datetime) -> None:
    """Store ``outcomes`` of ``owner``'s claims and everything that follows from them."""
    if not outcomes:
        return
    with write_transaction() as session:
        # Every window open at any of these results, even one that closed since.
        windows = windows_by_server(min(outcome.result.checked_at for outcome in outcomes))
        ids = [outcome.claim.check_id for outcome in outcomes]
        rows = {row.id: row for row in (CheckRow(*values) for values in
                                        session.execute(select(*_ROW_COLUMNS).where(Check.id.in_(ids))))}
        recorded: list[tuple[CheckRow, ProbeResult, StateChange | None]] = []
        written, released, samples = [], [], []
        for claim, result, slow in outcomes:
            row = rows.get(claim.check_id)
            if row is None:  # deleted while it was being probed
                continue
            if _already_newer(row, result, now):
                released.append({"check_id": row.id, "owner": owner})
                continue
            row.last_checked_at = result.checked_at
            change = apply_result(row, result)
            written.append({"check_id": row.id, "owner": owner, "result": result.to_dict(),
                            "checked_at": result.checked_at, "slow": slow, "failures": row.consecutive_failures,
                            "successes": row.consecutive_successes, "new_state": row.state,
                            "since": row.state_since})
            in_maintenance = active_window(windows.get(row.server_id, []), result.checked_at) is not None
            samples.append(Sample.of(row.id, result, in_maintenance=in_maintenance))
            recorded.append((row, result, change))
        refused = _write(session, _RECORDED, written) | _write(session, _RELEASED, released)
        if refused:
            recorded = [item for item in recorded if item[0].id not in refused]
            samples = [sample for sample in samples if sample.check_id not in refused]
        for row, result, change in recorded:
            if change is not None:
                session.add(StatusEvent(check_id=row.id, occurred_at=row.state_since, previous=change.previous,
                                        current=change.current, summary=result.summary[:300]))
        guarded("history recorder", record_samples, samples)
        _call_hooks(session, plugins, recorded)
        update_servers({row.server_id for row, _, change in recorded if change is not None}, windows, now)


def _write(session, statement, parameters: list[dict]) -> set[int]:
    """Run ``statement`` for every set of ``parameters``; return the checks whose rows refused it.

    All at once first; if the database refuses a row, row by row, each in a
    savepoint, so the rows it takes are written and only the others left out.
    A database that cannot be reached (or is busy) refuses nothing in
    particular: that error ends the transaction, and the loop offers the batch again.
    """
    if not parameters:
        return set()
    try:
        with session.begin_nested():
            session.execute(statement, parameters)
        return set()
    except DBAPIError as error:
        if _not_the_rows(error):
            raise
    refused = set()
    for values in parameters:
        try:
            with session.begin_nested():
                session.execute(statement, values)
        except DBAPIError as error:
            if _not_the_rows(error):
                raise
            log.error("the result of check %s cannot be stored, so it is left out: %s", values["check_id"], error)
            refused.add(values["check_id"])
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
    checks = {check.id: check for check in session.scalars(select(Check).where(Check.id.in_(wanted)))}
    for row, result, change in recorded:
        check = checks.get(row.id)
        if check is None:
            continue
        if every_result:
            call_hook(plugins, "ninerstatus_probe_completed", check=check, result=result)
        if change is not None:
            call_hook(plugins, "ninerstatus_status_changed", check=check, previous=change.previous,
                      current=change.current, result=result)


def _already_newer(row: CheckRow, result: ProbeResult, now: datetime) -> bool:
    """True when the check holds ``result`` or a later one (a batch offered again after a failed commit).

    A stored time in the future (a hand edit, a clock set back) is not believed:
    it would otherwise keep every new result out for good.
    """
    stored = row.last_checked_at
    return stored is not None and result.checked_at <= stored <= now
