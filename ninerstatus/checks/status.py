"""What a server's checks add up to, as visitors see it, and since when.

Everything here is worked out when a page is drawn, from what the probe
runner stored, so it stays true when no runner is alive: a check with no
result for three intervals is UNKNOWN ("no data since ..."), never green.
The rules are told for visitors and staff in docs/states.md; the partial
rule (``combined_label``) is written only here, and the runner records what
it says (``RECORDED``).
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import TypeVar

from flask import g, has_request_context

from ..incident_floors import IncidentFloor, request_floors
from ..models import AffectedState, Server
from ..probing import ProbeResult, Status
from ..runner.maintenance import MaintenanceWindow, active_window, request_windows
from ..timeutil import utcnow
from .listing import ListedCheck, ListedServer
from .models import Check

T = TypeVar("T")

OPERATIONAL, DEGRADED, PARTIAL_OUTAGE, OUTAGE, UNKNOWN = "OPERATIONAL", "DEGRADED", "PARTIAL OUTAGE", "OUTAGE", "UNKNOWN"
MAINTENANCE_LABEL = "UNDER MAINTENANCE"
INTERNAL_LABEL = "INTERNAL"
#: How bad each label of a probed server is, for the worse of what the probes say and an incident's floor.
SEVERITY = {OPERATIONAL: 0, UNKNOWN: 1, DEGRADED: 2, PARTIAL_OUTAGE: 3, OUTAGE: 4}
#: The label an open incident's affected-server state holds its servers at, at least.
FLOOR_LABELS = {AffectedState.DEGRADED: DEGRADED, AffectedState.PARTIAL_OUTAGE: PARTIAL_OUTAGE,
                AffectedState.MAJOR_OUTAGE: OUTAGE}
#: What the runner records as a server's state for each label: the checks' own state names where one
#: fits (so rows written before PARTIAL OUTAGE existed still read the same), and two of its own.
RECORDED = {OPERATIONAL: "ok", DEGRADED: "warning", PARTIAL_OUTAGE: "partial_outage", OUTAGE: "critical",
            UNKNOWN: "unknown", MAINTENANCE_LABEL: "maintenance"}
#: Labels that are no news: the page says since when only for the others.
QUIET_LABELS = (OPERATIONAL, INTERNAL_LABEL)
#: A check without a result for this many of its intervals has lost its runner.
STALE_AFTER_INTERVALS = 3
#: Times each worker keeps as ``short_time`` wrote them: a few for every check of a large site.
SHORT_TIMES_KEPT = 4096


def combined_label(statuses: Collection[Status]) -> str:
    """The partial rule: the label of a server whose counted checks have ``statuses``.

    Every check failing (CRITICAL) is an OUTAGE; some but not all of them a
    PARTIAL OUTAGE, whatever the others say; otherwise any warning makes it
    DEGRADED, then any UNKNOWN makes it UNKNOWN, and only all OK is
    OPERATIONAL. No checks at all is UNKNOWN: nothing vouches for the server.
    """
    if not statuses:
        return UNKNOWN
    failing = sum(status is Status.CRITICAL for status in statuses)
    if failing == len(statuses):
        return OUTAGE
    if failing:
        return PARTIAL_OUTAGE
    if Status.WARNING in statuses:
        return DEGRADED
    return UNKNOWN if Status.UNKNOWN in statuses else OPERATIONAL


@dataclass(frozen=True)
class CheckState:
    """What visitors are told about one check: its status, the key fact or why it is unknown, and since when."""

    status: Status
    fact: str
    # When the status shown began: the runner's confirmed change, or for a stale check its latest result.
    since: datetime | None = None
    # False when nothing recent is known: no result yet, or a stale one.
    fresh: bool = True

    @property
    def css(self) -> str:
        """The class name the stylesheet colours by."""
        return self.status.label if self.fresh else "nodata"

    @property
    def stale_since(self) -> datetime | None:
        """The time of the latest result when it is too old to vouch for anything."""
        return None if self.fresh else self.since

    @property
    def says_since(self) -> datetime | None:
        """``since``, for a fresh status that is news (not OK); a stale one says "no data since" instead."""
        return self.since if self.fresh and self.status is not Status.OK else None


def latest_result(check: Check | ListedCheck) -> ProbeResult | None:
    """``check.result``, read from its stored form once per request however often a page shows it.

    A listed check's result is read once per process for the same stored text already (``checks.listing``).
    """
    if isinstance(check, ListedCheck) or not has_request_context():
        return check.result
    if "latest_results" not in g:
        g.latest_results = {}
    # Keyed by the stored dict itself, so a result recorded meanwhile is read afresh.
    stored = check.last_result
    kept = g.latest_results.get(id(check))
    if kept is None or kept[0] is not stored:
        kept = g.latest_results[id(check)] = (stored, check.result)
    return kept[1]


def check_state(check: Check | ListedCheck, now: datetime | None = None) -> CheckState:
    """The runner's confirmed state of ``check`` since its change, or UNKNOWN when its latest result is missing or stale.

    A check the runner has never judged (``state_since`` unset; say one only
    probed from the admin page), or whose stored state names no status,
    shows its latest result as it is, since no known time. A listed check
    (``checks.listing``: rows read for this request, which cannot change)
    is worked out once per request, however many parts of the page show it.
    """
    if isinstance(check, ListedCheck):
        return _once_per_listed(check, "listed_check_states", lambda: _check_state(check, now))
    return _check_state(check, now)


def _once_per_listed(row: ListedCheck | ListedServer, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` for a listed ``row``, kept for the rest of the request under ``key``.

    Kept on the row itself: a listed row is read for one request and lives only as long as it.
    """
    kept = row.__dict__
    if key not in kept:
        kept[key] = compute()
    return kept[key]


def _check_state(check: Check | ListedCheck, now: datetime | None) -> CheckState:
    result = latest_result(check)
    if result is None or check.last_checked_at is None:
        return CheckState(Status.UNKNOWN, "no result yet", fresh=False)
    now = now or utcnow()
    if now - check.last_checked_at > timedelta(seconds=STALE_AFTER_INTERVALS * check.interval_seconds):
        return CheckState(Status.UNKNOWN, f"no data since {short_time(check.last_checked_at, now)}",
                          since=check.last_checked_at, fresh=False)
    status = Status.__members__.get(check.state.upper())
    if check.state_since is None or status is None:  # never judged, or a state no status names
        return CheckState(result.status, result.summary)
    # A result the damping has not confirmed yet is shown, but marked as such.
    fact = result.summary if result.status is status else f"{result.summary} (unconfirmed)"
    return CheckState(status, fact, since=check.state_since)


@dataclass(frozen=True)
class ServerState:
    """A server's label for visitors, since when, the checks behind it, its window and the incident holding it."""

    label: str
    checks: tuple[Check, ...] = ()
    maintenance: MaintenanceWindow | None = None
    # True for a public server without checks: its label is what staff list, not a live result.
    not_probed: bool = False
    # When the label began (see docs/states.md); None when no stored time tells.
    since: datetime | None = None
    # True while ``maintenance`` is open (the label may still be an open incident's, which outranks it).
    window_open: bool = False
    # The open incident naming the server that declared a state for it, whether or not it sets the label.
    incident: IncidentFloor | None = None

    @property
    def css(self) -> str:
        """The class name the stylesheet colours by; "not-probed" is never coloured as a live result."""
        return "not-probed" if self.not_probed else self.label.lower().replace(" ", "-")

    @property
    def under_maintenance(self) -> bool:
        """True while the server's maintenance window is open."""
        return self.window_open

    @property
    def says_since(self) -> datetime | None:
        """``since``, for a label that is news (not OPERATIONAL or INTERNAL)."""
        return None if self.label in QUIET_LABELS else self.since


def public_checks(server: Server) -> tuple[Check, ...]:
    """The enabled checks of ``server`` that visitors may see."""
    return tuple(c for c in server.checks if c.enabled and c.is_public)


def server_state(server: Server | ListedServer, now: datetime | None = None) -> ServerState:
    """INTERNAL for internal servers; else what the probes say, held at least at an open incident's floor.

    Probes: UNDER MAINTENANCE in an announced window, else ``combined_label``
    of the public checks. A public server without checks shows OPERATIONAL,
    which is what staff declare by listing it, marked as not probed so it is
    not coloured as a live result; once it has checks only their results
    count, and a check with no result yet, or no recent one, makes the server
    UNKNOWN, never green. An open incident naming the server with a declared
    state then makes it at least that bad, in a window too (see ``held``).
    A listed server is worked out once per request, as a listed check.
    """
    if isinstance(server, ListedServer):
        return _once_per_listed(server, "listed_server_states", lambda: _server_state(server, now))
    return _server_state(server, now)


def _server_state(server: Server | ListedServer, now: datetime | None) -> ServerState:
    if not server.is_public:
        return ServerState(INTERNAL_LABEL)
    now = now or utcnow()
    windows = request_windows(now).get(server.id, [])
    checks = public_checks(server)
    window = active_window(windows, now)
    if window is not None:
        probed = ServerState(MAINTENANCE_LABEL, checks, window, since=window.starts_at, window_open=True)
    elif not checks:
        probed = ServerState(OPERATIONAL, maintenance=windows[0] if windows else None, not_probed=True)
    else:
        states = [check_state(c, now) for c in checks]
        label = combined_label([s.status for s in states])
        probed = ServerState(label, checks, windows[0] if windows else None,
                             since=_probed_since(server, label, states))
    return held(probed, request_floors(now).get(server.id))


def held(probed: ServerState, floor: IncidentFloor | None) -> ServerState:
    """``probed`` made at least as bad as an open incident's ``floor``, never better.

    Staff's word on an open incident outranks an open maintenance window too:
    during a window the probes do not count, so the server shows the floor.
    Where both say the same label, it has held since the earlier of the two.
    """
    if floor is None:
        return probed
    label = FLOOR_LABELS[floor.state]
    rank = SEVERITY.get(probed.label, -1)  # UNDER MAINTENANCE ranks below every floor
    if SEVERITY[label] > rank:
        return replace(probed, label=label, since=floor.since, not_probed=False, incident=floor)
    if SEVERITY[label] == rank:
        return replace(probed, since=min(filter(None, (probed.since, floor.since))), incident=floor)
    return replace(probed, incident=floor)


def _probed_since(server: Server, label: str, states: list[CheckState]) -> datetime | None:
    """When the probes' ``label`` for ``server`` began.

    Stale checks: the oldest of their latest results (no data since then).
    Otherwise the time the runner recorded the server's state, when it
    recorded this label; failing that (the runner has not caught up, or a row
    from before PARTIAL OUTAGE existed), the latest confirmed change among the
    checks, since when the checks have said what they say now.
    """
    stale = [state.since for state in states if not state.fresh and state.since]
    if label == UNKNOWN and stale:
        return min(stale)
    if server.state == RECORDED[label] and server.state_since is not None:
        return server.state_since
    changes = [state.since for state in states]
    return None if None in changes else max(changes, default=None)


def short_time(moment: datetime, now: datetime | None = None) -> str:
    """A time in UTC as briefly as it stays clear: "14:02 UTC", "28 Nov 14:02 UTC", "28 Nov 2025 14:02 UTC"."""
    return _short_time(moment, (now or utcnow()).astimezone(timezone.utc).date())


@lru_cache(maxsize=SHORT_TIMES_KEPT)
def _short_time(moment: datetime, today: date) -> str:
    # Kept: a page shows the same hundred or so moments (checks' and states' times) as the pages before it.
    moment = moment.astimezone(timezone.utc)
    if moment.date() == today:
        return f"{moment:%H:%M} UTC"
    if moment.year == today.year:
        return f"{moment.day} {moment:%b %H:%M} UTC"
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def time_ago(moment: datetime | None, now: datetime | None = None) -> str:
    """Say how long ago ``moment`` was, roughly: "12 s ago", "5 min ago", "3 h ago", "2 days ago"."""
    if moment is None:
        return "never"
    seconds = max(0, int(((now or utcnow()) - moment).total_seconds()))
    for size, unit in ((86400, " days"), (3600, " h"), (60, " min")):
        if seconds >= size * (2 if unit == " days" else 1):
            return f"{seconds // size}{unit} ago"
    return f"{seconds} s ago"


def latency_ms(check: Check) -> str | None:
    """The latest probe's total time in milliseconds, as text, or None."""
    result = latest_result(check)
    if result is None or result.timings.total is None:
        return None
    return f"{result.timings.total * 1000:.0f} ms"
