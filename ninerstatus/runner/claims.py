"""Claiming due checks, so that each check is probed once per slot however many runners there are.

A claim is one short transaction: pick enabled checks whose slot has come
and that no live lease holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
two runners claiming at once take different rows and never wait for each
other), move each one's ``next_due_at`` to its next slot and lease it to
this runner until its probe must have ended. What a probe needs is copied
out of the row into a ``Claim``, so the probe threads never touch the
database. A runner that dies holding leases only delays those checks until
the leases lapse. Each lane (``lanes.py``) is claimed on its own, up to the
room it has, so checks waiting for a full slow lane never hold back the
quick ones.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.orm import defer

from ..checks.models import Check
from ..checks.validity import check_problem
from ..checktypes import CheckType
from ..extensions import db
from ..probing import ErrorKind, ProbeResult, Target, TlsPolicy, run_probe
from ..probing.execute import WATCHDOG_GRACE, HungProbes
from .lanes import Lane
from .schedule import first_slot, next_slot
from .transactions import write_transaction


@dataclass(frozen=True)
class Claim:
    """One claimed check: everything its probe needs, and the slot it was due in."""

    check_id: int
    due: datetime
    timeout: float
    check_type: CheckType | None = None
    target: Target | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    tls_policy: TlsPolicy | None = None
    # Why the check cannot be probed at all (no plugin, a target that no longer validates).
    problem: str | None = None

    def run(self, clock: Callable[[], datetime], hung: HungProbes | None = None) -> ProbeResult:
        """Probe the check; returns within its timeout plus the watchdog's grace, whatever the plugin does.

        With ``hung``, a probe of this check abandoned earlier that still runs
        means no new one is started (see ``run_probe``).
        """
        if self.problem is not None:
            return ProbeResult.unknown(self.problem, ErrorKind.CONFIG_ERROR, checked_at=clock())
        return run_probe(self.check_type.probe, self.target, self.settings, self.timeout,
                         tls_policy=self.tls_policy, clock=clock, hung=hung, key=self.check_id)


def claim_of(check: Check, check_types: Mapping[str, CheckType]) -> Claim:
    """Copy out of ``check`` what its probe needs; a check that cannot be probed as stored carries why."""
    base = {"check_id": check.id, "due": check.next_due_at, "timeout": check.timeout_seconds}
    problem = check_problem(check, check_types)
    if problem is not None:
        return Claim(**base, problem=problem)
    return Claim(**base, check_type=check_types[check.type_name], target=check.target(),
                 settings=check.probe_settings(), tls_policy=check.tls_policy())


def lease_end(check: Check, now: datetime, lease_seconds: float) -> datetime:
    """Until when a claim of ``check`` at ``now`` keeps other runners away."""
    return now + timedelta(seconds=check.timeout_seconds + WATCHDOG_GRACE + lease_seconds)


def claim_due(owner: str, now: datetime, rooms: Mapping[Lane, int], lease_seconds: float,
              check_types: Mapping[str, CheckType]) -> tuple[dict[Lane, list[Claim]], datetime | None]:
    """Claim for ``owner`` up to ``rooms[lane]`` due checks of each lane.

    Also return when the next unclaimed check of a lane with room falls due
    (the runner sleeps until then; a full lane wakes it when a probe ends).
    """
    open_lanes = [lane for lane, room in rooms.items() if room > 0]
    in_open_lane = or_(false(), *(lane.holds() for lane in open_lanes))
    free = or_(Check.lease_until.is_(None), Check.lease_until <= now)
    work = or_(Check.next_due_at.is_(None), and_(Check.next_due_at <= now, free, in_open_lane))
    # Most rounds find nothing due: a read says so without taking SQLite's write lock.
    if db.session.scalar(select(Check.id).where(Check.enabled, work).limit(1)) is None:
        earliest = _earliest_due(db.session, in_open_lane)
        db.session.rollback()
        return {}, earliest
    claimed: dict[Lane, list[Claim]] = {}
    with write_transaction() as session:
        _place_new_checks(session, now)
        checks = []
        for lane in open_lanes:
            in_lane = session.scalars(
                select(Check).where(Check.enabled, Check.next_due_at <= now, free, lane.holds())
                .options(defer(Check.last_result))  # only the probe's settings are needed
                .order_by(Check.next_due_at, Check.id).limit(rooms[lane])
                .with_for_update(skip_locked=True)).all()
            claimed[lane] = [claim_of(check, check_types) for check in in_lane]
            checks += in_lane
        if checks:
            session.execute(update(Check), [
                {"id": check.id, "next_due_at": next_slot(check.next_due_at, check.interval_seconds, now),
                 "lease_owner": owner, "lease_until": lease_end(check, now, lease_seconds)} for check in checks])
        earliest = _earliest_due(session, in_open_lane)
    return claimed, earliest


def _earliest_due(session, in_lane) -> datetime | None:
    return session.scalar(select(func.min(Check.next_due_at)).where(Check.enabled, in_lane))


def _place_new_checks(session, now: datetime) -> None:
    """Give checks that were never scheduled their first slot, spread over their first interval."""
    rows = session.execute(
        select(Check.id, Check.interval_seconds).where(Check.enabled, Check.next_due_at.is_(None))
        .with_for_update(skip_locked=True)).all()
    if rows:
        session.execute(update(Check), [{"id": check_id, "next_due_at": first_slot(check_id, interval, now)}
                                        for check_id, interval in rows])


def release_all(owner: str) -> None:
    """Give up every lease ``owner`` still holds, so a stopping runner leaves nothing waiting on it."""
    with write_transaction() as session:
        session.execute(update(Check).where(Check.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None)
                        .execution_options(synchronize_session=False))
