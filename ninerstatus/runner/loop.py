"""The probe runner: claim due checks, probe them on a bounded number of threads, record what they saw.

Probes are blocking I/O, so each runs on a worker thread of its own
(``probing/workers.py``: kept and reused), counted in two lanes
(``lanes.py``): ``RUNNER_POOL_SIZE`` probes of checks that answer promptly
and ``RUNNER_SLOW_POOL_SIZE`` of checks whose probes time out or run long, so
that silent targets cannot take the threads from healthy ones. The worker
thread waits for the probe's slot, runs the probe itself (``probe_here``)
and leaves it on a queue the runner's thread drains each round (``Flights``);
the runner's thread is the watchdog, which abandons a plugin that hangs past
its deadline, as ``run_probe`` would: while such a probe still runs, its
check is not probed again (one stuck thread per check at most). One thread
per probe and no hand-off between two: a thread waking up costs about as
much as a quick probe's own work. Everything that touches the database
happens on the runner's own thread, in short transactions, a few rounds a
second: claims of the checks due within the next half second (``claims.py``;
each probe then waits on its thread for its slot, and for the next tick of a
50 ms grid, so that the probes of a tick start together), results every half
second (``results.py``; a batch the database refused is kept and tried
again), the heartbeat with how late probes started (``lateness.py``) and a
sweep of server states every half minute (maintenance windows open and
close by the clock, not by a probe). The clock is injectable, so tests drive schedules
through hours in milliseconds.
"""
from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import IO

from flask import Flask
from sqlalchemy import delete

from ..extensions import db
from ..plugins import get_plugins
from ..probing import ProbeResult
from ..probing.execute import WATCHDOG_GRACE, HungProbes
from ..probing.workers import WorkerCall, start_in_worker
from ..timeutil import utcnow
from .claims import ClaimMaker, claim_due, release_all
from .housekeeping import Housekeeper
from .lanes import Flight, Flights, Lane
from .lateness import Lateness
from .lock import hold_sqlite_lock, lock_path
from .maintenance import windows_by_server
from .models import RunnerHeartbeat
from .results import Outcome, record_results
from .servers import stale_server_ids, update_servers
from .transactions import write_transaction

log = logging.getLogger(__name__)

#: Longest pause between two rounds (new checks, a stop request are noticed by then).
MAX_IDLE_SECONDS = 0.5
#: Shortest round: what falls due or finishes meanwhile is claimed, and recorded, in one
#: transaction each instead of one per probe. A transaction costs the runner about as much
#: as the rows it writes, so fewer and larger ones leave it more time to probe.
TICK_SECONDS = 0.25
#: Checks falling due this soon are claimed in this round, and each probe waits on its thread
#: for its slot (on the start grid): probes start on time although the database is asked only every tick. Over a
#: tick, so that a round that takes a while still leaves the next round's probes booked in time.
LOOKAHEAD = timedelta(seconds=0.5)
#: Probes start on the ticks of this grid (monotonic seconds): a probe whose slot falls between two ticks waits for the
#: next. The probes of a tick then start together and the processor works through them in one go, instead of waking
#: up, its caches cold, for each probe in turn: probes spread evenly took about a quarter more CPU each than the
#: same probes started in groups at this pace. A probe starts this much later at most, well within a slot.
START_GRID_SECONDS = 0.05
#: Results wait at most this long to be recorded, so that one transaction takes those of two rounds: its
#: statements cost about as much for a hundred results as for forty, and they are most of the runner's work.
RECORD_SECONDS = 0.5
SWEEP_EVERY = timedelta(seconds=30)
#: Heartbeats older than this belong to runners that are gone; they are forgotten.
FORGET_RUNNERS_AFTER = timedelta(days=1)
#: After the database failed a round, wait this long before the next.
RETRY_SECONDS = 2.0
#: Rounds in which a batch of results is offered to the database before it is given up. Failed
#: rounds are RETRY_SECONDS apart, so this ends well within the checks' leases.
RECORD_ATTEMPTS = 5


def runner_id() -> str:
    """A name for this runner process, unique among runners sharing a database."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class ProbeRunner:
    """One probe runner's work: a context manager around ``run`` (or ``run_due``).

    Entering it takes the SQLite lock, starts the heartbeat, and
    pushes an application context; use it from the thread that entered it.
    """

    def __init__(self, app: Flask, *, clock: Callable[[], datetime] = utcnow, owner: str | None = None) -> None:
        config = app.config
        self.app, self.clock = app, clock
        self.owner = owner or runner_id()
        # A lane of no room would never be claimed: each gets one probe at least.
        self.lane_sizes = {Lane.QUICK: max(1, int(config["RUNNER_POOL_SIZE"])),
                           Lane.SLOW: max(1, int(config["RUNNER_SLOW_POOL_SIZE"]))}
        self.slow_after = timedelta(seconds=float(config["RUNNER_SLOW_PROBE_SECONDS"]))
        self.claim_batch = int(config["RUNNER_CLAIM_BATCH"])
        self.lease_seconds = float(config["RUNNER_LEASE_SECONDS"])
        self.heartbeat_every = timedelta(seconds=float(config["RUNNER_HEARTBEAT_SECONDS"]))
        self.plugins = get_plugins(app)
        self.claims = ClaimMaker(self.plugins.check_types)
        self.flights = Flights(self.lane_sizes, self.slow_after)
        self.hung = HungProbes()
        self.lateness: Lateness | None = None
        # Results the database has not taken yet, and in how many rounds it refused them.
        self._unrecorded: list[Outcome] = []
        self._record_failures = 0
        self._next_record = 0.0  # monotonic
        self._lock: IO[str] | None = None
        self._context = None
        self._started_at = self._next_beat = self._next_sweep = None
        self._earliest_due: datetime | None = None

    # ------------------------------------------------------------ lifetime

    def __enter__(self) -> ProbeRunner:
        self._context = self.app.app_context()
        self._context.push()
        try:
            url = db.engine.url
            if url.get_backend_name() == "sqlite":
                self._lock = hold_sqlite_lock(lock_path(url.database, self.app.instance_path), url.database)
            self._started_at = self.clock()
            self.lateness = Lateness(self.lane_sizes, self._started_at)
            self._beat(self._started_at)
        except BaseException:
            self._let_go()
            raise
        log.info("probe runner %s started: %d probes at a time, and %d more of checks whose probes time out "
                 "or take %g s or longer", self.owner, self.lane_sizes[Lane.QUICK], self.lane_sizes[Lane.SLOW],
                 self.slow_after.total_seconds())
        return self

    def __exit__(self, *exc_info) -> None:
        """Finish the probes in flight (each ends by its deadline), record them and give up every lease."""
        try:
            self._collect(None)
            release_all(self.owner)
            with write_transaction() as session:
                session.execute(delete(RunnerHeartbeat).where(RunnerHeartbeat.id == self.owner))
            log.info("probe runner %s stopped", self.owner)
        finally:
            self._let_go()

    def _let_go(self) -> None:
        if self._lock is not None:
            self._lock.close()
        db.session.remove()
        self._context.pop()

    # ------------------------------------------------------------ the loop

    def run(self, stop: threading.Event) -> None:
        """Probe due checks until ``stop`` is set; notifications and pruning run beside in their own thread."""
        keeper = Housekeeper(self.app, self.clock, stop)
        keeper.start()
        while not stop.is_set():
            try:
                self.tick(stop)
            except Exception:  # the database went away, say: keep the process, try again shortly
                log.exception("probe runner round failed; retrying in %g s", RETRY_SECONDS)
                db.session.rollback()
                stop.wait(RETRY_SECONDS)
        keeper.join()

    def tick(self, stop: threading.Event) -> None:
        """One round: upkeep when due, claim what the lanes have room for, record what has finished."""
        now = self.clock()
        if now >= self._next_beat:
            self._beat(now)
        if self._next_sweep is None or now >= self._next_sweep:
            self.sweep_servers(now)
        self._claim(now, LOOKAHEAD)
        self._pause(stop, now)
        self._collect(0)

    def run_due(self) -> int:
        """Probe every check due now and record all results before returning; return how many ran."""
        probed = 0
        while True:
            claimed = self._claim(self.clock())
            probed += claimed
            self._collect(None)
            if not claimed:
                return probed

    def sweep_servers(self, now: datetime) -> None:
        """Bring server states in line with the clock: maintenance windows opening and closing."""
        self._next_sweep = now + SWEEP_EVERY
        windows = windows_by_server(now)
        stale = stale_server_ids(windows, now)
        if stale:
            with write_transaction():
                update_servers(stale, windows, now)
        db.session.rollback()

    # ------------------------------------------------------------ parts

    def _claim(self, now: datetime, ahead: timedelta = timedelta(0)) -> int:
        """Claim what the lanes have room for among the checks due by ``now + ahead``; start their probes."""
        self.flights.move_overrunning(now)
        rooms = {lane: min(self.flights.room(lane), self.claim_batch) for lane in Lane}
        if all(room <= 0 for room in rooms.values()):
            return 0
        claimed, self._earliest_due = claim_due(self.owner, now, rooms, self.lease_seconds, self.claims, ahead,
                                                earliest=self._earliest_due)
        for lane, claims in claimed.items():
            for claim in claims:
                self._fly(Flight(claim, lane, max(claim.due or now, now)))
        return sum(len(claims) for claims in claimed.values())

    def _fly(self, flight: Flight) -> None:
        """Start ``flight`` on a worker thread; it probes at its slot, and the runner's thread watches its deadline."""
        # Until the worker says when the probe began: the latest it may begin, plus the probe's own deadline.
        flight.deadline = time.monotonic() + LOOKAHEAD.total_seconds() + flight.claim.timeout + WATCHDOG_GRACE

        def fly() -> None:
            try:
                flight.result = self._probe(flight)
            except BaseException as error:  # the runner's own bug: _result_of logs it
                flight.error = error
            self.flights.land(flight)

        flight.call = WorkerCall(fly, f"probe of check {flight.claim.check_id}")
        # Counted before it starts: it may land before this thread looks again.
        self.flights.add(flight)
        try:
            start_in_worker(flight.call)
        except BaseException:  # no thread to be had: the check waits for its lease to lapse
            self.flights.drop(flight)
            raise

    def _probe(self, flight: Flight) -> ProbeResult:
        """Probe the claimed check at its slot (on its worker thread) and note when the probe began and ended."""
        early = (flight.started - self.clock()).total_seconds()
        if early > 0:
            # At most the lookahead, whatever the clock says: a test's clock may stand still.
            now = time.monotonic()
            time.sleep(start_tick(now + min(early, LOOKAHEAD.total_seconds())) - now)
        flight.deadline = time.monotonic() + flight.claim.timeout + WATCHDOG_GRACE
        flight.began = self.clock()
        try:
            return flight.claim.run_here(self.clock, self.hung)
        finally:
            flight.ended = self.clock()

    def _pause(self, stop: threading.Event, now: datetime) -> None:
        """Wait until a check falls due or, while a lane is full, until a probe ends."""
        idle = self._idle_seconds(now)
        if not self.flights.any_full():
            stop.wait(idle)
        # A round lasts a tick at least even so: probes ending close together are recorded,
        # and their places claimed, in one transaction each.
        elif not stop.wait(TICK_SECONDS):
            self.flights.wait_for_landing(idle - TICK_SECONDS)

    def _idle_seconds(self, now: datetime) -> float:
        """Until the next check falls due within the lookahead, the next quick probe runs long enough to move
        lanes, or the next probe's deadline passes."""
        due = self._earliest_due - LOOKAHEAD if self._earliest_due is not None else None
        moments = [(moment - now).total_seconds() for moment in (due, self.flights.next_move()) if moment is not None]
        moments.append(self.flights.next_deadline() - time.monotonic())
        return min(max(min(moments), TICK_SECONDS), MAX_IDLE_SECONDS)

    def _collect(self, timeout: float | None) -> None:
        """Record the probes that have finished, after waiting up to ``timeout`` (None: for all of them).

        Probes past their deadline are abandoned meanwhile, so waiting for all
        of them ends by the last deadline. Within a round (``timeout`` given),
        results are recorded every ``RECORD_SECONDS``; waiting for all records them at once.
        """
        while True:
            wait_for = timeout if timeout is not None else max(0.0, self.flights.next_deadline() - time.monotonic())
            for flight in self.flights.finished(wait_for):
                self._landed(flight, _result_of(flight))
            for flight in self.flights.overdue(time.monotonic()):
                flight.ended = self.clock()
                started = flight.deadline - flight.claim.timeout - WATCHDOG_GRACE
                self._landed(flight, flight.claim.abandon(flight.call, self.hung, started=started,
                                                          checked_at=flight.began or flight.started))
            if timeout is not None or not self.flights:
                break
        if self._unrecorded and (timeout is None or time.monotonic() >= self._next_record):
            self._next_record = time.monotonic() + RECORD_SECONDS
            self._record()

    def _landed(self, flight: Flight, result: ProbeResult) -> None:
        """Keep the result of a probe that ended (or was given up) for recording, and note how late it started."""
        self.lateness.started(flight.claimed_in, flight.claim.due, flight.began or flight.started)
        self._unrecorded.append(Outcome(flight.claim, result, flight.ran_long(result, self.slow_after)))

    def _record(self) -> None:
        """Record the results kept so far; when the database refuses, keep them for the next round, a few times."""
        try:
            record_results(self.owner, self._unrecorded, self.plugins, self.clock())
        except Exception:
            self._record_failures += 1
            if self._record_failures >= RECORD_ATTEMPTS:
                log.error("gave up recording %d probe results after %d attempts; their checks are probed again "
                          "in their next slot after their leases lapse", len(self._unrecorded), self._record_failures)
                self._unrecorded, self._record_failures = [], 0
            raise
        self._unrecorded, self._record_failures = [], 0

    def _beat(self, now: datetime) -> None:
        lags = self.lateness.summary(now)
        with write_transaction() as session:
            session.merge(RunnerHeartbeat(id=self.owner, hostname=socket.gethostname()[:255], pid=os.getpid(),
                                          started_at=self._started_at, heartbeat_at=now, **asdict(lags)))
            session.execute(delete(RunnerHeartbeat).where(RunnerHeartbeat.heartbeat_at < now - FORGET_RUNNERS_AFTER))
        self._next_beat = now + self.heartbeat_every


def start_tick(moment: float) -> float:
    """The first tick of the start grid at or after ``moment`` (monotonic seconds)."""
    tick = math.ceil(moment / START_GRID_SECONDS) * START_GRID_SECONDS
    return tick if tick >= moment else tick + START_GRID_SECONDS  # a quotient rounded down to a whole number


def _result_of(flight: Flight) -> ProbeResult:
    error = flight.error
    if error is None and flight.result is not None:
        return flight.result
    # run_probe catches plugins' errors; this is the runner's own
    log.error("probing failed outside the plugin", exc_info=error)
    return ProbeResult.unknown(f"runner error: {type(error).__name__}: {error}")
