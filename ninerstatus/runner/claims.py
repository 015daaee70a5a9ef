"""Claiming due checks, so that each check is probed once per slot however many runners there are.

A claim is one short transaction: pick enabled checks whose slot has come
(or comes within the runner's lookahead: their probes wait for it) and that
no live lease holds (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
two runners claiming at once take different rows and never wait for each
other), move each one's ``next_due_at`` to its next slot and lease it to
this runner until its probe must have ended. What a probe needs is copied
out of the row into a ``Claim``, so the probe threads never touch the
database; a check's claim is kept and used again while its row's probe
settings stay the same (``ClaimMaker``). A runner that dies holding leases
only delays those checks until the leases lapse. Each lane (``lanes.py``)
is claimed on its own, up to the room it has, so checks waiting for a full
slow lane never hold back the quick ones.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, NamedTuple

from sqlalchemy import Select, and_, bindparam, false, func, or_, select, update

from ..checks.models import Check
from ..checks.validity import check_problem
from ..checktypes import CheckType
from ..driver_rows import driver_statement
from ..extensions import db
from ..probing import ErrorKind, ProbeResult, Target, TlsPolicy, run_probe
from ..probing.execute import WATCHDOG_GRACE, HungProbes, abandon, probe_here
from ..probing.workers import WorkerCall
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
        return self._probe(run_probe, clock, hung)

    def run_here(self, clock: Callable[[], datetime], hung: HungProbes | None = None) -> ProbeResult:
        """Probe the check on this thread, a worker thread whose caller keeps the watchdog (see ``probe_here``)."""
        return self._probe(probe_here, clock, hung)

    def _probe(self, how: Callable[..., ProbeResult], clock: Callable[[], datetime],
               hung: HungProbes | None) -> ProbeResult:
        if self.problem is not None:
            return ProbeResult.unknown(self.problem, ErrorKind.CONFIG_ERROR, checked_at=clock())
        # A copy each time: the claim is kept for the check's next probes, whatever this one does to it.
        return how(self.check_type.probe, self.target, dict(self.settings), self.timeout,
                   tls_policy=self.tls_policy, clock=clock, hung=hung, key=self.check_id)

    def abandon(self, call: WorkerCall, hung: HungProbes, *, started: float, checked_at: datetime) -> ProbeResult:
        """The result of this claim's probe given up at its deadline while ``call`` still runs it (see ``abandon``)."""
        return abandon(call, self.check_type.probe, self.target, self.timeout + WATCHDOG_GRACE, hung, self.check_id,
                       started=started, checked_at=checked_at)

    def in_slot(self, due: datetime) -> Claim:
        """The same claim for the slot ``due``."""
        # A copy of the attributes: dataclasses.replace runs __init__ and costs more than the rest of a claim.
        claim = object.__new__(Claim)
        claim.__dict__.update(self.__dict__, due=due)
        return claim


def claim_of(check: Check, check_types: Mapping[str, CheckType]) -> Claim:
    """Copy out of ``check`` what its probe needs; a check that cannot be probed as stored carries why."""
    base = {"check_id": check.id, "due": check.next_due_at, "timeout": check.timeout_seconds}
    problem = check_problem(check, check_types)
    if problem is not None:
        return Claim(**base, problem=problem)
    return Claim(**base, check_type=check_types[check.type_name], target=check.target(),
                 settings=check.probe_settings(), tls_policy=check.tls_policy())


#: The columns a claim is made of besides the slot: while a check's values of these stay the same,
#: so does what its probe gets.
PROBE_COLUMNS = (Check.type_name, Check.host, Check.port, Check.tls_mode, Check.family, Check.tls_name,
                 Check.tls_verify, Check.ca_file, Check.warn_days, Check.crit_days, Check.settings,
                 Check.timeout_seconds)
_PROBE_NAMES = tuple(column.key for column in PROBE_COLUMNS)
#: Checks whose claims are kept at most; past that the store starts again (checks deleted meanwhile go).
CLAIMS_KEPT = 50_000


class ClaimMaker:
    """Makes claims from checks' rows, reusing the previous claim of a check whose row has not changed.

    Making a claim validates the target, decrypts the secrets and builds the
    TLS policy: a fair part of the runner's work per probe when done every
    time. The same row makes the same claim (the plugins and the site's key
    are fixed for the runner's lifetime), so only the slot is new. Used from
    the runner's thread only.
    """

    def __init__(self, check_types: Mapping[str, CheckType]) -> None:
        self.check_types = check_types
        self._kept: dict[int, tuple[tuple, Claim]] = {}
        # One policy object for all the claims with equal policies (most checks keep the defaults).
        self._policies: dict[TlsPolicy, TlsPolicy] = {}

    def claim(self, check_id: int, due: datetime, values: tuple) -> Claim:
        """The claim of check ``check_id`` for slot ``due``, its ``PROBE_COLUMNS`` being ``values``."""
        kept = self._kept.get(check_id)
        if kept is not None and kept[0] == values:
            return kept[1].in_slot(due)
        # A check not kept in any session: claim_of reads it like the row it was loaded from.
        claim = claim_of(Check(id=check_id, next_due_at=due, **dict(zip(_PROBE_NAMES, values))), self.check_types)
        if claim.tls_policy is not None:
            object.__setattr__(claim, "tls_policy", self._policies.setdefault(claim.tls_policy, claim.tls_policy))
        if len(self._kept) >= CLAIMS_KEPT:
            self._kept.clear()
            self._policies.clear()
        self._kept[check_id] = (values, claim)
        return claim


def lease_end(timeout: float, now: datetime, lease_seconds: float) -> datetime:
    """Until when a claim at ``now`` of a check with ``timeout`` keeps other runners away."""
    return now + timedelta(seconds=timeout + WATCHDOG_GRACE + lease_seconds)


_claimed = Check.__table__.update().where(Check.__table__.c.id == bindparam("claimed_id")).values(
    next_due_at=bindparam("next_due"), lease_owner=bindparam("owner"), lease_until=bindparam("until"))


def claim_due(owner: str, now: datetime, rooms: Mapping[Lane, int], lease_seconds: float, maker: ClaimMaker,
              ahead: timedelta = timedelta(0), *,
              earliest: datetime | None = None) -> tuple[dict[Lane, list[Claim]], datetime | None]:
    """Claim for ``owner`` up to ``rooms[lane]`` checks of each lane due by ``now + ahead``.

    Also return when the next unclaimed check of a lane with room falls due
    (the runner sleeps until then; a full lane wakes it when a probe ends).
    ``earliest`` is what the previous call returned, if the caller kept it.
    """
    open_lanes = tuple(lane for lane, room in rooms.items() if room > 0)
    statements = _claim_statements(open_lanes)
    moments = {"now": now, "by": now + ahead}
    # Most rounds of a quiet runner find nothing due: a read says so without taking SQLite's write lock.
    # A busy one knows from the last round that something is (another runner may have taken it: no harm).
    surely_due = earliest is not None and earliest <= now + ahead
    if not surely_due and db.session.connection().execute(statements.any_work, moments).first() is None:
        earliest = db.session.connection().execute(statements.earliest).scalar()
        db.session.rollback()
        return {}, earliest
    claimed: dict[Lane, list[Claim]] = {}
    with write_transaction() as session:
        connection = session.connection()
        _place_new_checks(session, now)
        claims = []
        for lane, due in zip(open_lanes, statements.due):
            # Plain columns, not Check objects: loading those costs more than the rest of a claim.
            rows = connection.execute(due, {**moments, "room": rooms[lane]}).all()
            claimed[lane] = []
            for check_id, due_at, interval, *values in rows:
                claimed[lane].append(maker.claim(check_id, due_at, tuple(values)))
                claims.append((claimed[lane][-1], interval))
        if claims:
            # Through the driver (see driver_rows.py): a round claims a hundred checks, thousands a minute.
            driver_statement(_claimed, connection.dialect).execute(connection, [
                {"claimed_id": claim.check_id, "next_due": next_slot(claim.due, interval, now), "owner": owner,
                 "until": lease_end(claim.timeout, now, lease_seconds)} for claim, interval in claims])
        earliest = connection.execute(statements.earliest).scalar()
    return claimed, earliest


class _ClaimStatements(NamedTuple):
    """A claim round's queries for some open lanes, the moments bound as ``now`` and ``by`` (now and the
    lookahead's end) and each lane's room as ``room``."""

    # Whether any check is due in an open lane, or has never been placed.
    any_work: Select
    # When the next check of an open lane falls due.
    earliest: Select
    # Each open lane's due checks, oldest slot first, locked (skipping those another runner holds).
    due: tuple[Select, ...]


@functools.cache
def _claim_statements(open_lanes: tuple[Lane, ...]) -> _ClaimStatements:
    """The queries of a round with ``open_lanes`` open, built once for each such set: a runner claims a few
    times a second, and building them anew each time cost more than running them."""
    moment = Check.next_due_at.type
    now, by = bindparam("now", type_=moment), bindparam("by", type_=moment)
    in_open_lane = or_(false(), *(lane.holds() for lane in open_lanes))
    free = or_(Check.lease_until.is_(None), Check.lease_until <= now)
    work = or_(Check.next_due_at.is_(None), and_(Check.next_due_at <= by, free, in_open_lane))
    return _ClaimStatements(
        select(Check.id).where(Check.enabled, work).limit(1),
        select(func.min(Check.next_due_at)).where(Check.enabled, in_open_lane),
        tuple(select(Check.id, Check.next_due_at, Check.interval_seconds, *PROBE_COLUMNS)
              .where(Check.enabled, Check.next_due_at <= by, free, lane.holds())
              .order_by(Check.next_due_at, Check.id).limit(bindparam("room"))
              .with_for_update(skip_locked=True) for lane in open_lanes))


_NEVER_PLACED = (select(Check.id, Check.interval_seconds).where(Check.enabled, Check.next_due_at.is_(None))
                 .with_for_update(skip_locked=True))


def _place_new_checks(session, now: datetime) -> None:
    """Give checks that were never scheduled their first slot, spread over their first interval."""
    rows = session.connection().execute(_NEVER_PLACED).all()
    if rows:
        session.execute(update(Check), [{"id": check_id, "next_due_at": first_slot(check_id, interval, now)}
                                        for check_id, interval in rows])


def release_all(owner: str) -> None:
    """Give up every lease ``owner`` still holds, so a stopping runner leaves nothing waiting on it."""
    with write_transaction() as session:
        session.execute(update(Check).where(Check.lease_owner == owner)
                        .values(lease_owner=None, lease_until=None)
                        .execution_options(synchronize_session=False))
