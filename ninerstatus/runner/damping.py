"""Flap damping: a check's confirmed state moves only after enough results in a row agree.

A check is confirmed down (or degraded, or unknown) after
``failures_before_down`` non-OK results in a row and up again after
``successes_before_up`` OK ones; once a non-OK run is confirmed, the state
follows its latest result. UNKNOWN results count in a non-OK run, so a check
whose plugin has vanished does not stay green for ever, but an UNKNOWN state
is never downtime: it drafts no incident and no uptime figure counts it down.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..checks.models import Check
from ..probing import ProbeResult, Status


@dataclass(frozen=True)
class StateChange:
    """A confirmed change of one check's state."""

    check_id: int
    previous: str | None  # None for a check the runner had never judged
    current: str
    result: ProbeResult


def state_name(status: Status) -> str:
    """The stored form of a status: its name in lower case (``critical``)."""
    return status.name.lower()


def apply_result(check: Check, result: ProbeResult) -> StateChange | None:
    """Count ``result`` into ``check``'s run and return the change it confirms, if any.

    ``check`` is a ``Check`` or anything with its damping columns (the runner's ``CheckRow``).

    A change takes effect when the probe that confirmed it started (``result.checked_at``).
    """
    judged_before = check.state_since is not None
    if result.status is Status.OK:
        check.consecutive_successes += 1
        check.consecutive_failures = 0
        confirmed = check.consecutive_successes >= check.successes_before_up
    else:
        check.consecutive_failures += 1
        check.consecutive_successes = 0
        confirmed = check.consecutive_failures >= check.failures_before_down
    current = state_name(result.status)
    if not judged_before:
        # From now on the confirmed state is what visitors see (see checks/status.py):
        # "unknown since the first probe" until a run confirms something else.
        check.state_since = result.checked_at
    if not confirmed or current == check.state:
        return None
    previous = check.state if judged_before else None
    check.state = current
    check.state_since = result.checked_at
    return StateChange(check.id, previous, current, result)
