"""What a server's checks add up to, as visitors see it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..models import Server
from ..probing import Status
from ..timeutil import utcnow
from .models import Check

#: The word under "Systems at a Glance" for a public server's worst check status.
SERVER_LABELS = {Status.OK: "OPERATIONAL", Status.WARNING: "DEGRADED", Status.CRITICAL: "OUTAGE",
                 Status.UNKNOWN: "UNKNOWN"}


@dataclass(frozen=True)
class ServerState:
    """A server's label for visitors and the checks behind it (none for internal servers)."""

    label: str
    checks: tuple[Check, ...] = ()

    @property
    def css(self) -> str:
        """The class name the stylesheet colours by."""
        return self.label.lower()


def public_checks(server: Server) -> tuple[Check, ...]:
    """The enabled checks of ``server`` that visitors may see."""
    return tuple(c for c in server.checks if c.enabled and c.is_public)


def server_state(server: Server) -> ServerState:
    """INTERNAL for internal servers; else the worst of the public checks' latest statuses.

    A public server without checks shows OPERATIONAL, which is what staff
    declare by listing it; once it has checks only their results count, and a
    check with no result yet makes the server UNKNOWN, never green.
    """
    if not server.is_public:
        return ServerState("INTERNAL")
    checks = public_checks(server)
    if not checks:
        return ServerState("OPERATIONAL")
    return ServerState(SERVER_LABELS[Status.worst(c.status for c in checks)], checks)


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
    result = check.result
    if result is None or result.timings.total is None:
        return None
    return f"{result.timings.total * 1000:.0f} ms"
