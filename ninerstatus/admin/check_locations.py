"""The locations that probe a check, as staff choose them and read them.

Staff choose who probes what from either side: a location's page (its
checks) or a check's form (its agent locations). Both save through
``keep_assignments``, so an assignment that stays keeps its per-location
state. The site's own runner probes every enabled check whatever is chosen;
it is never a choice, and its rows are never touched here.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select

from ..agents.locations import unsaved_site_location
from ..agents.models import CheckLocation, Location
from ..agents.quorum import OFFLINE_AFTER_INTERVALS, LocationState, Verdict, combine, is_fresh
from ..checks.models import Check, stored_result
from ..extensions import db
from ..probing import ProbeResult, Status


def keep_assignments(current: Mapping[int, CheckLocation], wanted: Collection[int],
                     new_row: Callable[[int], CheckLocation]) -> None:
    """Make the assignments ``current`` (keyed by the other side's id) exactly ``wanted``.

    Rows no longer wanted are deleted, missing ones are added with
    ``new_row(id)``; a row that stays is left alone, state and all.
    """
    wanted = set(wanted)
    for key, row in current.items():
        if key not in wanted:
            db.session.delete(row)
    for key in sorted(wanted - set(current)):
        db.session.add(new_row(key))


def agent_locations() -> list[Location]:
    """Every agent location (not the site's runner), by name: the ones a check can be given."""
    return list(db.session.scalars(select(Location).where(Location.is_site.is_(False))
                                   .order_by(func.lower(Location.name), Location.id)))


def the_site_location() -> Location:
    """The site's own location as stored, or as the runner will make it (never stored from here)."""
    stored = db.session.scalar(select(Location).where(Location.is_site.is_(True)).order_by(Location.id).limit(1))
    return stored or unsaved_site_location()


def _agent_rows(check: Check) -> dict[int, CheckLocation]:
    rows = db.session.scalars(select(CheckLocation).join(Location, Location.id == CheckLocation.location_id)
                              .where(CheckLocation.check_id == check.id, Location.is_site.is_(False)))
    return {row.location_id: row for row in rows}


def assigned_agents(check: Check) -> list[int]:
    """The ids of the agent locations that probe ``check``."""
    return sorted(_agent_rows(check))


def assign_agents(check: Check, location_ids: Collection[int]) -> None:
    """Make exactly the agent locations ``location_ids`` probe ``check`` (stored with an id); the site's row stays."""
    keep_assignments(_agent_rows(check), location_ids,
                     lambda location_id: CheckLocation(check_id=check.id, location_id=location_id))


def probing_count(agents: list[Location], chosen: Collection[int]) -> int:
    """How many locations will probe a check given the agent locations ``chosen``: the site's runner and those
    of them whose token is not revoked."""
    chosen = set(chosen)
    return 1 + sum(1 for location in agents if location.id in chosen and location.revoked_at is None)


def quorum_warning(quorum: int | None, probing: int) -> str | None:
    """What to tell staff when a quorum can never be reached by the ``probing`` locations, or None."""
    if quorum is None or quorum <= probing:
        return None
    they = "only this site's runner probes it" if probing == 1 else f"only {probing} locations probe it"
    return (f"Down when failing from {quorum} locations, but {they}: it can never count as down, only as "
            "degraded. Choose more locations, or a smaller number.")


@dataclass(frozen=True)
class LocationView:
    """One location's view of a check, as staff read it on the check's page."""

    location: Location
    # Its own confirmed state (retries and damping applied); None before its first result.
    state: Status | None
    result: ProbeResult | None
    checked_at: datetime | None
    # Why it does not count in the quorum now ("agent offline", "revoked"...), or None when it does.
    left_out: str | None


@dataclass(frozen=True)
class CheckLocations:
    """Every location probing a check, and what the quorum rule makes of their states at the moment."""

    views: list[LocationView]
    verdict: Verdict


def _left_out(location: Location, check: Check, checked_at: datetime | None, now: datetime) -> str | None:
    if location.revoked_at is not None:
        return "revoked"
    if not check.enabled:
        return "check switched off"
    if location.is_site:
        return None if is_fresh(checked_at, check.interval_seconds, now) else "no recent result from this site's runner"
    if location.token_hash is None:
        return "agent offline: it has no token yet"
    if location.last_contact_at is None:
        return "agent offline: it has never reported"
    if not is_fresh(checked_at, check.interval_seconds, now):
        return f"agent offline: no result for {OFFLINE_AFTER_INTERVALS} intervals"
    return None


def _confirmed(row: CheckLocation | None) -> Status | None:
    """The location's confirmed state; None before it was first judged, or when the stored state names no status."""
    if row is None or row.state_since is None:
        return None
    return Status.__members__.get(str(row.state).upper())


def check_locations(check: Check, now: datetime) -> CheckLocations:
    """The site's runner and every location assigned to ``check``, each with what it saw, at ``now``.

    One query: the locations joined to their rows of this check, the
    site's location included before its first result (it has no row yet).
    """
    rows = db.session.execute(
        select(Location, CheckLocation)
        .outerjoin(CheckLocation, and_(CheckLocation.location_id == Location.id, CheckLocation.check_id == check.id))
        .where(or_(CheckLocation.check_id.is_not(None), Location.is_site.is_(True)))
        .order_by(Location.is_site.desc(), func.lower(Location.name), Location.id)).all()
    if not any(location.is_site for location, _ in rows):
        rows.insert(0, (the_site_location(), None))
    views = []
    for location, row in rows:
        checked_at = row.last_checked_at if row is not None else None
        result = stored_result(row.last_result, checked_at) if row is not None else None
        views.append(LocationView(location, _confirmed(row), result, checked_at,
                                  _left_out(location, check, checked_at, now)))
    verdict = combine([LocationState(view.location.label, view.state, view.left_out is None) for view in views],
                      check.quorum)
    return CheckLocations(views, verdict)
