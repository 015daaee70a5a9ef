"""The site's own location, tokens for agent locations, and how staff read an agent's health."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..checks.models import Check, stored_result
from ..extensions import db
from ..probing import Status
from ..timeutil import utcnow
from .models import CheckLocation, Location
from .signing import Token, new_token, secret_hash

#: An agent not heard from for this long is shown to staff as offline.
OFFLINE_AFTER = timedelta(minutes=5)


def site_location() -> Location:
    """The location of the site's own runner, made (named after the site) if the database has none yet."""
    location = db.session.scalar(select(Location).where(Location.is_site.is_(True)).order_by(Location.id))
    if location is None:
        location = unsaved_site_location()
        db.session.add(location)
        db.session.flush()
    return location


def unsaved_site_location() -> Location:
    """The site's own location as ``site_location`` makes it when there is none (not stored)."""
    return Location(name=current_app.config["SITE_NAME"][:80], city="", country="", network="", is_site=True)


def issue_token(location: Location) -> Token:
    """Give ``location`` a new token (the old one stops working); the caller commits and shows it once."""
    token = new_token()
    location.token_id, location.token_hash = token.token_id, secret_hash(token.secret)
    location.revoked_at = None
    return token


def revoke_token(location: Location, now: datetime) -> None:
    """Stop ``location``'s token from working; its results so far are kept."""
    location.revoked_at = now


@dataclass(frozen=True)
class AgentHealth:
    """What staff are told about one location's agent."""

    state: str  # "site", "never connected", "online", "offline", "revoked"
    clock_off: bool  # its clock is further from the site's than AGENT_CLOCK_TOLERANCE_SECONDS


def agent_health(location: Location, now: datetime | None = None) -> AgentHealth:
    """How ``location``'s agent is doing, as the locations page shows it."""
    now = now or utcnow()
    tolerance = float(current_app.config["AGENT_CLOCK_TOLERANCE_SECONDS"])
    clock_off = location.clock_offset_seconds is not None and abs(location.clock_offset_seconds) > tolerance
    if location.is_site:
        return AgentHealth("site", False)
    if location.revoked_at is not None or location.token_hash is None:
        return AgentHealth("revoked", clock_off)
    if location.last_contact_at is None:
        return AgentHealth("never connected", False)
    return AgentHealth("online" if now - location.last_contact_at <= OFFLINE_AFTER else "offline", clock_off)


@dataclass(frozen=True)
class Seen:
    """What a location saw last of one check."""

    check: str
    status: Status | None
    summary: str
    checked_at: datetime | None


def seen_from(location: Location) -> list[Seen]:
    """The latest result of each check assigned to ``location``, by server and check (a stored result that
    cannot be read says so instead)."""
    rows = db.session.execute(
        select(Check, CheckLocation).join(CheckLocation, CheckLocation.check_id == Check.id)
        .where(CheckLocation.location_id == location.id).options(joinedload(Check.server)).order_by(Check.id))
    seen = []
    for check, row in rows:
        result = stored_result(row.last_result, row.last_checked_at)
        name = f"{check.server.code}: {check.title}"
        if result is None:
            seen.append(Seen(name, None, "no result yet", None))
        else:
            seen.append(Seen(name, result.status, result.summary, row.last_checked_at))
    return seen
