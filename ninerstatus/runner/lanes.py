"""Lanes: checks whose probes take long get threads of their own, so they cannot starve the others.

A probe holds a thread for as long as its target takes: milliseconds for a
healthy service, its whole timeout for a port that accepts and never answers.
With one pool, 200 such silent targets at a 10 s timeout hold every thread,
and healthy checks wait behind them until their results go stale although
nothing is wrong with them. So the runner counts its probes in two lanes,
each with its own number of probes in flight:

- the quick lane (``RUNNER_POOL_SIZE``) for checks whose last probe ended
  within ``RUNNER_SLOW_PROBE_SECONDS``;
- the slow lane (``RUNNER_SLOW_POOL_SIZE``) for checks whose last probe timed
  out or ran longer.

Each lane is claimed on its own (``claims.claim_due``): a full slow lane
leaves slow checks waiting, late and said so, while the quick lane keeps to
its schedule. A quick-lane probe that runs past the limit is counted in the
slow lane from then on when the slow lane has room, so a target that falls
silent holds a quick place for about that long, not for its whole timeout.
Only when more targets fall silent at once than the slow lane has room for
do the others keep their quick places until they time out, once: from then
on they are known to be slow. Each probe has a worker thread while it runs;
threads are started as probes need them, so an unused slow lane costs nothing.

Why lanes, decided by how long each check's own last probe held its thread:

- a cap per host does not help when a data centre goes dark (many hosts fall
  silent at once), and would hold back the many quick checks one mail server
  rightly has; the time a probe holds its thread is what starves the others;
- a pool that grows within a bound only moves the limit: enough silent
  targets fill any bound, and the healthy checks are starved again; the slow
  lane is that bound, kept apart from the quick one.

The lane is kept on the check's row (``Check.slow_lane``), so a restarted
runner, or another runner sharing the database, knows it at once.
"""
from __future__ import annotations

import enum
import math
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..checks.models import Check
from ..probing import ErrorKind, ProbeResult

if TYPE_CHECKING:
    from ..probing.workers import WorkerCall
    from .claims import Claim

#: Error kinds that say the target kept the probe waiting until its deadline.
TIMEOUTS = frozenset({ErrorKind.CONNECT_TIMEOUT, ErrorKind.READ_TIMEOUT})


class Lane(enum.Enum):
    """Where a check's probe is counted: with the quick probes, or with those that time out or run long."""

    QUICK = "quick"
    SLOW = "slow"

    def holds(self):
        """SQL condition on ``checks``: the checks of this lane (a missing flag counts as quick)."""
        slow = Check.slow_lane.is_(True)
        return slow if self is Lane.SLOW else Check.slow_lane.is_not(True)


@dataclass(eq=False)
class Flight:
    """A probe in flight: its claim, the lane it counts in, when it starts and ended by the runner's clock.

    A check claimed a little ahead of its slot starts at the slot; booked
    until then, it takes its place in its lane from its claim on.
    """

    claim: Claim
    lane: Lane
    started: datetime
    ended: datetime | None = None
    #: When the probe began in fact (on its thread, at its slot or as soon after as it could).
    began: datetime | None = None
    #: The lane it was claimed in (``lane`` changes when the probe overruns).
    claimed_in: Lane | None = None
    #: The worker thread's call that runs the probe, and when (monotonic) the runner stops waiting for it.
    call: WorkerCall | None = None
    deadline: float = math.inf
    #: What the probe returned, or what the runner's own code raised around it (set before it lands).
    result: ProbeResult | None = None
    error: BaseException | None = None

    def __post_init__(self) -> None:
        if self.claimed_in is None:
            self.claimed_in = self.lane

    def ran_long(self, result: ProbeResult, slow_after: timedelta) -> bool:
        """True when the check's next probe belongs in the slow lane: this one timed out or took ``slow_after``."""
        return result.error_kind in TIMEOUTS or (self.ended or self.started) - self.started >= slow_after


class Flights:
    """The runner's probes in flight, each counted in its lane.

    A worker thread reports its probe's end with ``land`` (thread-safe: an
    append and an event); everything else is the runner's thread's, which
    takes the landed probes in whenever it looks, a few times a second: no
    future per probe, and no walk over all of them to see which are done.
    """

    def __init__(self, sizes: Mapping[Lane, int], slow_after: timedelta) -> None:
        self.sizes = dict(sizes)
        self.slow_after = slow_after
        self._running: set[Flight] = set()
        self._busy = dict.fromkeys(self.sizes, 0)
        # Ended and seen by the runner's thread, not taken out yet.
        self._ended: list[Flight] = []
        # Ended on their worker threads, not seen yet; the event is set at each landing.
        self._landed: deque[Flight] = deque()
        self._news = threading.Event()

    def __len__(self) -> int:
        """Probes still running or ended and not yet taken out."""
        self._take_landed()
        return len(self._running) + len(self._ended)

    def land(self, flight: Flight) -> None:
        """Note that ``flight``'s probe has ended (from its worker thread)."""
        self._landed.append(flight)
        self._news.set()

    def room(self, lane: Lane) -> int:
        """How many more probes ``lane`` may take now (one that has ended, recorded or not, takes none)."""
        self._take_landed()
        return self.sizes[lane] - self._busy[lane]

    def add(self, flight: Flight) -> None:
        self._running.add(flight)
        self._busy[flight.lane] += 1

    def drop(self, flight: Flight) -> None:
        """Forget ``flight``, whose probe never started."""
        if flight in self._running:
            self._leave(flight)

    def move_overrunning(self, now: datetime) -> None:
        """Count quick probes that have run ``slow_after`` or longer in the slow lane, as far as it has room.

        Their threads stay busy either way; what changes is that the quick
        lane may start other probes in their place.
        """
        room = self.room(Lane.SLOW)
        if room <= 0:
            return
        overrunning = sorted((flight for flight in self._running
                              if flight.lane is Lane.QUICK and now - flight.started >= self.slow_after),
                             key=lambda flight: flight.started)
        for flight in overrunning[:room]:
            flight.lane = Lane.SLOW
            self._busy[Lane.QUICK] -= 1
            self._busy[Lane.SLOW] += 1

    def next_move(self) -> datetime | None:
        """When the oldest quick probe will have run ``slow_after`` (None: no quick probe, or no room to move to)."""
        if self.room(Lane.SLOW) <= 0:
            return None
        return min((flight.started + self.slow_after for flight in self._running if flight.lane is Lane.QUICK),
                   default=None)

    def any_full(self) -> bool:
        """True when some lane has no room left: one of its probes ending makes room."""
        return any(self.room(lane) <= 0 for lane in self.sizes)

    def wait_for_landing(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for a probe to end; at once when one has ended since the last look."""
        self._news.clear()
        # Landed before the event was cleared: nothing to wait for.
        if not self._landed and timeout > 0:
            self._news.wait(timeout)

    def next_deadline(self) -> float:
        """The earliest deadline (monotonic) of the probes still running; infinity when there are none."""
        self._take_landed()
        return min((flight.deadline for flight in self._running), default=math.inf)

    def overdue(self, now: float) -> list[Flight]:
        """Take out the probes still running past their deadline (``now`` is monotonic): the runner gives up on them.

        Should one land after all, it is not taken in again.
        """
        self._take_landed()
        late = [flight for flight in self._running if flight.deadline <= now]
        for flight in late:
            self._leave(flight)
        return late

    def finished(self, timeout: float) -> list[Flight]:
        """Take out the probes that have ended, after waiting up to ``timeout`` seconds for all of them to end."""
        ends = time.monotonic() + timeout
        self._take_landed()
        while self._running and (left := ends - time.monotonic()) > 0:
            self.wait_for_landing(left)
            self._take_landed()
        ended, self._ended = self._ended, []
        return ended

    def _take_landed(self) -> None:
        while self._landed:
            flight = self._landed.popleft()
            if flight in self._running:  # not given up meanwhile
                self._leave(flight)
                self._ended.append(flight)

    def _leave(self, flight: Flight) -> None:
        self._running.discard(flight)
        self._busy[flight.lane] -= 1
