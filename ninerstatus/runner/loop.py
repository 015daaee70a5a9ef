"""The probe runner: claim due checks, probe them on a bounded pool of threads, record what they saw.

Probes are blocking I/O, so they run on a thread pool of
``RUNNER_POOL_SIZE``; each goes through ``run_probe``, whose watchdog
abandons a plugin that hangs past its deadline. Everything that touches the
database happens on the runner's own thread, in short transactions: claims
(``claims.py``), results (``results.py``), the heartbeat and a sweep of
server states every half minute (maintenance windows open and close by the
clock, not by a probe). The clock is injectable, so tests drive schedules
through hours in milliseconds.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import IO

from flask import Flask
from sqlalchemy import delete

from ..extensions import db
from ..plugins import get_plugins
from ..probing import ProbeResult
from ..timeutil import utcnow
from .claims import Claim, claim_due, release_all
from .housekeeping import Housekeeper
from .lock import hold_sqlite_lock, lock_path
from .maintenance import windows_by_server
from .models import RunnerHeartbeat
from .results import record_results
from .servers import stale_server_ids, update_servers
from .transactions import write_transaction

log = logging.getLogger(__name__)

#: Longest pause between two rounds (new checks, a stop request are noticed by then).
MAX_IDLE_SECONDS = 0.5
#: Shortest round: what falls due or finishes meanwhile is claimed, and recorded, in one
#: transaction each instead of one per probe; it adds at most this much schedule lag.
TICK_SECONDS = 0.1
SWEEP_EVERY = timedelta(seconds=30)
#: Heartbeats older than this belong to runners that are gone; they are forgotten.
FORGET_RUNNERS_AFTER = timedelta(days=1)
#: After the database failed a round, wait this long before the next.
RETRY_SECONDS = 2.0


def runner_id() -> str:
    """A name for this runner process, unique among runners sharing a database."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class ProbeRunner:
    """One probe runner's work: a context manager around ``run`` (or ``run_due``).

    Entering it takes the SQLite lock, starts the pool and the heartbeat, and
    pushes an application context; use it from the thread that entered it.
    """

    def __init__(self, app: Flask, *, clock: Callable[[], datetime] = utcnow, owner: str | None = None) -> None:
        config = app.config
        self.app, self.clock = app, clock
        self.owner = owner or runner_id()
        self.pool_size = int(config["RUNNER_POOL_SIZE"])
        self.claim_batch = int(config["RUNNER_CLAIM_BATCH"])
        self.lease_seconds = float(config["RUNNER_LEASE_SECONDS"])
        self.heartbeat_every = timedelta(seconds=float(config["RUNNER_HEARTBEAT_SECONDS"]))
        self.plugins = get_plugins(app)
        self._inflight: dict[Future[ProbeResult], Claim] = {}
        self._pool: ThreadPoolExecutor | None = None
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
            self._pool = ThreadPoolExecutor(self.pool_size, thread_name_prefix="probe")
            self._started_at = self.clock()
            self._beat(self._started_at)
        except BaseException:
            self._let_go()
            raise
        log.info("probe runner %s started: %d probes at a time", self.owner, self.pool_size)
        return self

    def __exit__(self, *exc_info) -> None:
        """Finish the probes in flight (each ends by its deadline), record them and give up every lease."""
        try:
            self._pool.shutdown(wait=True)
            self._collect(None)
            release_all(self.owner)
            with write_transaction() as session:
                session.execute(delete(RunnerHeartbeat).where(RunnerHeartbeat.id == self.owner))
            log.info("probe runner %s stopped", self.owner)
        finally:
            self._let_go()

    def _let_go(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
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
        """One round: upkeep when due, claim what the pool has room for, record what has finished."""
        now = self.clock()
        if now >= self._next_beat:
            self._beat(now)
        if self._next_sweep is None or now >= self._next_sweep:
            self.sweep_servers(now)
        self._claim(now)
        if len(self._inflight) >= self.pool_size:
            wait(self._inflight, MAX_IDLE_SECONDS, FIRST_COMPLETED)
        else:
            stop.wait(self._idle_seconds(now))
        self._collect(0)

    def run_due(self) -> int:
        """Probe every check due now and record all results before returning; return how many ran."""
        probed = 0
        while True:
            probed += self._claim(self.clock())
            if not self._inflight:
                return probed
            self._collect(None)

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

    def _claim(self, now: datetime) -> int:
        room = min(self.pool_size - len(self._inflight), self.claim_batch)
        if room <= 0:
            return 0
        claims, self._earliest_due = claim_due(self.owner, now, room, self.lease_seconds,
                                               self.plugins.check_types)
        for claim in claims:
            self._inflight[self._pool.submit(claim.run, self.clock)] = claim
        return len(claims)

    def _idle_seconds(self, now: datetime) -> float:
        if self._earliest_due is None:
            return MAX_IDLE_SECONDS
        return min(max((self._earliest_due - now).total_seconds(), TICK_SECONDS), MAX_IDLE_SECONDS)

    def _collect(self, timeout: float | None) -> None:
        """Record the probes that have finished, after waiting up to ``timeout`` (None: for all of them)."""
        if not self._inflight:
            return
        done, _ = wait(self._inflight, timeout, ALL_COMPLETED)
        outcomes = [(self._inflight.pop(future), _result_of(future)) for future in done]
        record_results(self.owner, outcomes, self.plugins, self.clock())

    def _beat(self, now: datetime) -> None:
        with write_transaction() as session:
            session.merge(RunnerHeartbeat(id=self.owner, hostname=socket.gethostname()[:255], pid=os.getpid(),
                                          started_at=self._started_at, heartbeat_at=now))
            session.execute(delete(RunnerHeartbeat).where(RunnerHeartbeat.heartbeat_at < now - FORGET_RUNNERS_AFTER))
        self._next_beat = now + self.heartbeat_every


def _result_of(future: Future[ProbeResult]) -> ProbeResult:
    try:
        return future.result()
    except Exception as error:  # run_probe catches plugins' errors; this is the runner's own
        log.exception("probing failed outside the plugin")
        return ProbeResult.unknown(f"runner error: {type(error).__name__}: {error}")
