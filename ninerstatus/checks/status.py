"""What a server's checks add up to, as visitors see it.

Everything here is worked out when a page is drawn, from what the probe
runner stored, so it stays true when no runner is alive: a check with no
result for three intervals is UNKNOWN ("no data since ..."), never green.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask import g, has_request_context

from ..models import Server
from ..probing import ProbeResult, Status
from ..runner.maintenance import MaintenanceWindow, active_window, request_windows
from ..timeutil import utcnow
from .models import Check

#: The word under "Systems at a Glance" for a public server's worst check status.
SERVER_LABELS = {Status.OK: "OPERATIONAL", Status.WARNING: "DEGRADED", Status.CRITICAL: "OUTAGE",
                 Status.UNKNOWN: "UNKNOWN"}
MAINTENANCE_LABEL = "UNDER MAINTENANCE"
#: A check without a result for this many of its intervals has lost its runner.
STALE_AFTER_INTERVALS = 3


@dataclass(frozen=True)
class CheckState:
    """What visitors are told about one check: its status, and the key fact or why it is unknown."""

    status: Status
    fact: str
    # The time of the latest result when it is too old to vouch for anything.
    stale_since: datetime | None = None
    # False when nothing recent is known: no result yet, or a stale one.
    fresh: bool = True

    @property
    def css(self) -> str:
        """The class name the stylesheet colours by."""
        return self.status.label if self.fresh else "nodata"


def latest_result(check: Check) -> ProbeResult | None:
    """``check.result``, read from its stored form once per request however often a page shows it."""
    if not has_request_context():
        return check.result
    if "latest_results" not in g:
        g.latest_results = {}
    # Keyed by the stored dict itself, so a result recorded meanwhile is read afresh.
    stored = check.last_result
    kept = g.latest_results.get(id(check))
    if kept is None or kept[0] is not stored:
        kept = g.latest_results[id(check)] = (stored, check.result)
    return kept[1]


def check_state(check: Check, now: datetime | None = None) -> CheckState:
    """The runner's confirmed state of ``check``, or UNKNOWN when its latest result is missing or stale.

    A check the runner has never judged (``state_since`` unset; say one only
    probed from the admin page), or whose stored state names no status,
    shows its latest result as it is.
    """
    result = latest_result(check)
    if result is None or check.last_checked_at is None:
        return CheckState(Status.UNKNOWN, "no result yet", fresh=False)
    now = now or utcnow()
    if now - check.last_checked_at > timedelta(seconds=STALE_AFTER_INTERVALS * check.interval_seconds):
        return CheckState(Status.UNKNOWN, f"no data since {short_time(check.last_checked_at, now)}",
                          stale_since=check.last_checked_at, fresh=False)
    status = Status.__members__.get(check.state.upper())
    if check.state_since is None or status is None:  # never judged, or a state no status names
        return CheckState(result.status, result.summary)
    # A result the damping has not confirmed yet is shown, but marked as such.
    return CheckState(status, result.summary if result.status is status else f"{result.summary} (unconfirmed)")


@dataclass(frozen=True)
class ServerState:
    """A server's label for visitors, the checks behind it and its open or next maintenance window."""

    label: str
    checks: tuple[Check, ...] = ()
    maintenance: MaintenanceWindow | None = None
    # True for a public server without checks: its label is what staff list, not a live result.
    not_probed: bool = False

    @property
    def css(self) -> str:
        """The class name the stylesheet colours by; "not-probed" is never coloured as a live result."""
        return "not-probed" if self.not_probed else self.label.lower().replace(" ", "-")

    @property
    def under_maintenance(self) -> bool:
        """True while the server's maintenance window is open."""
        return self.label == MAINTENANCE_LABEL


def public_checks(server: Server) -> tuple[Check, ...]:
    """The enabled checks of ``server`` that visitors may see."""
    return tuple(c for c in server.checks if c.enabled and c.is_public)


def server_state(server: Server, now: datetime | None = None) -> ServerState:
    """INTERNAL for internal servers; UNDER MAINTENANCE in an announced window; else the worst public check.

    A public server without checks shows OPERATIONAL, which is what staff
    declare by listing it, marked as not probed so it is not coloured as a
    live result; once it has checks only their results count, and a check with
    no result yet, or no recent one, makes the server UNKNOWN, never green.
    """
    if not server.is_public:
        return ServerState("INTERNAL")
    now = now or utcnow()
    windows = request_windows(now).get(server.id, [])
    checks = public_checks(server)
    window = active_window(windows, now)
    if window is not None:
        return ServerState(MAINTENANCE_LABEL, checks, window)
    upcoming = windows[0] if windows else None
    if not checks:
        return ServerState("OPERATIONAL", maintenance=upcoming, not_probed=True)
    worst = Status.worst(check_state(c, now).status for c in checks)
    return ServerState(SERVER_LABELS[worst], checks, upcoming)


def short_time(moment: datetime, now: datetime | None = None) -> str:
    """A time in UTC as briefly as it stays clear: "14:02 UTC", "28 Nov 14:02 UTC", "28 Nov 2025 14:02 UTC"."""
    moment, now = moment.astimezone(timezone.utc), (now or utcnow()).astimezone(timezone.utc)
    if moment.date() == now.date():
        return f"{moment:%H:%M} UTC"
    if moment.year == now.year:
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
