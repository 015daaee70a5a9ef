"""One state for a check probed from several locations: down only when a quorum of fresh locations agree.

Each location keeps its own confirmed state (retries and flap damping as for
a single runner). The combined state follows these rules, in order:

- a location is a **judge** when its latest result is fresh (younger than
  three of the check's intervals) and its confirmed state is an opinion (OK,
  WARNING or CRITICAL; UNKNOWN means its probe could not decide). A location
  that is not fresh has left the quorum: staff see "agent offline", visitors
  never see the service as down because of it;
- no judge at all: UNKNOWN;
- the check is down (CRITICAL) when at least ``quorum`` judges see it
  CRITICAL; the quorum is the check's own setting ("2" of however many
  locations) or, by default, a majority of the judges. With a single
  location, as on a site without agents, that is exactly the single
  runner's state;
- failing from some judges but fewer than the quorum is a **regional**
  problem: WARNING (DEGRADED on the page), naming the locations that fail;
- otherwise any WARNING makes it WARNING, and all OK is OK.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..probing import Status

#: A location without a result for this many of the check's intervals has left the quorum.
OFFLINE_AFTER_INTERVALS = 3


def is_fresh(checked_at: datetime | None, interval_seconds: int, now: datetime) -> bool:
    """True when a location's latest result, taken at ``checked_at``, still keeps it in the quorum of a check
    probed every ``interval_seconds``."""
    window = timedelta(seconds=OFFLINE_AFTER_INTERVALS * max(1, interval_seconds))  # a stored interval is untrusted
    return checked_at is not None and now - checked_at <= window


@dataclass(frozen=True)
class LocationState:
    """What one location says about a check: its confirmed state, and whether that is recent."""

    location: str
    # None before the location's first result.
    status: Status | None
    fresh: bool


@dataclass(frozen=True)
class Verdict:
    """The combined state of a check and what it rests on."""

    status: Status
    # How many fresh locations gave an opinion, and how many of them reach the service.
    judges: int
    reachable: int
    # The judges that see it CRITICAL, in the order given (the locations to name on the page).
    failing: tuple[str, ...]
    # The locations that left the quorum because their results are not fresh.
    offline: tuple[str, ...]
    # CRITICAL judges needed for the check to be down.
    needed: int

    @property
    def regional(self) -> bool:
        """True when some locations fail but not a quorum of them."""
        return bool(self.failing) and self.status is not Status.CRITICAL


def votes_needed(judges: int, quorum: int | None) -> int:
    """CRITICAL judges needed for a check to be down: ``quorum`` when set, else a majority of ``judges``."""
    if quorum is not None and quorum >= 1:
        return quorum
    return judges // 2 + 1


def combine(states: Sequence[LocationState], quorum: int | None = None) -> Verdict:
    """The combined state of one check from what each of its locations says (see the module's rules)."""
    offline = tuple(state.location for state in states if not state.fresh)
    judges = [state for state in states
              if state.fresh and state.status in (Status.OK, Status.WARNING, Status.CRITICAL)]
    failing = tuple(state.location for state in judges if state.status is Status.CRITICAL)
    needed = votes_needed(len(judges), quorum)
    if not judges:
        status = Status.UNKNOWN
    elif len(failing) >= needed:
        status = Status.CRITICAL
    elif failing or any(state.status is Status.WARNING for state in judges):
        status = Status.WARNING
    else:
        status = Status.OK
    return Verdict(status, len(judges), len(judges) - len(failing), failing, offline, needed)
