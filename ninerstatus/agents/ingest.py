"""Taking a batch of results from an agent: checked whole, taken exactly once, times put on the site's clock.

A batch is refused whole when any part of it is wrong (a check that is not
the location's, a result that does not read): the agent keeps it and staff
see why in the site's log, instead of half a batch being taken and the rest
lost. A batch id the location already sent is refused as a duplicate (the
agent then forgets it), so a batch sent again after a lost answer, or
replayed by someone else, is recorded once. Accepting the batch and
recording its results happen in one transaction.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..plugins import get_plugins
from ..probing import ProbeResult
from ..runner.results import record_located
from ..runner.transactions import rows_at_once_else_one_by_one
from .access import AgentRefused
from .models import AgentBatch, CheckLocation, Location

log = logging.getLogger(__name__)

BATCH_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MAX_VERSION_LENGTH = 40


@dataclass(frozen=True)
class Batch:
    """A batch as the agent sent it, its results read and put on the site's clock."""

    batch_id: str
    offset_seconds: float
    agent_version: str
    backlog: int
    dropped: int
    results: tuple[tuple[int, ProbeResult], ...]


def _refused(message: str) -> AgentRefused:
    return AgentRefused(400, "bad_batch", message)


def _count(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _refused(f"{name} must be a whole number of 0 or more")
    return value


def read_batch(body: Any, now: datetime) -> Batch:
    """The batch in a request body (parsed JSON); ``AgentRefused`` names the first thing wrong with it."""
    if not isinstance(body, Mapping):
        raise _refused("the body must be a JSON object")
    batch_id = body.get("batch_id")
    if not isinstance(batch_id, str) or not BATCH_ID.fullmatch(batch_id):
        raise _refused("batch_id must be 1 to 64 letters, digits or . _ : -")
    sent_at = body.get("sent_at")
    if isinstance(sent_at, bool) or not isinstance(sent_at, (int, float)) or not 0 < sent_at < 1e11:
        raise _refused("sent_at must be the agent's Unix time when it sent the batch")
    version = body.get("agent_version", "")
    if not isinstance(version, str) or len(version) > MAX_VERSION_LENGTH:
        raise _refused(f"agent_version must be text of at most {MAX_VERSION_LENGTH} characters")
    items = body.get("results")
    limit = int(current_app.config["AGENT_BATCH_MAX_RESULTS"])
    if not isinstance(items, list) or len(items) > limit:
        raise _refused(f"results must be a list of at most {limit} results")
    offset = now.timestamp() - float(sent_at)
    results = []
    for index, item in enumerate(items):
        check_id = item.get("check_id") if isinstance(item, Mapping) else None
        if isinstance(check_id, bool) or not isinstance(check_id, int):
            raise _refused(f"results[{index}] must name its check_id")
        try:
            result = ProbeResult.from_dict(item["result"])
        except Exception as error:  # whatever the agent sent: missing keys, wrong types, bad values
            raise _refused(f"results[{index}] is not a result the site can read ({type(error).__name__}: "
                           f"{str(error)[:200]})") from None
        results.append((check_id, replace(result, checked_at=result.checked_at + timedelta(seconds=offset))))
    return Batch(batch_id, offset, version, _count(body, "backlog"), _count(body, "dropped"), tuple(results))


class WriterTurns:
    """Turns at SQLite's write lock for the agent API's writes: one thread of this process at a time, then one
    process of the site's at a time (an exclusive ``flock`` of a file beside the database)."""

    def __init__(self, database: str | None) -> None:
        self.path = f"{database}.writers.lock" if database and database != ":memory:" else None
        self._threads = threading.Lock()
        # The lock file as this process opened it: a process forked with another's would share its lock.
        self._opened: tuple[int, int] | None = None

    def _file(self) -> int | None:
        if self.path is None:
            return None
        if self._opened is None or self._opened[0] != os.getpid():
            try:
                self._opened = (os.getpid(), os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
            except OSError as error:  # a directory the site cannot write to: the threads' turns only
                log.warning("cannot open %s (%s): the web workers' writes wait for SQLite's lock", self.path, error)
                self.path = None
                return None
        return self._opened[1]

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold this process's and then the site's turn."""
        with self._threads:
            descriptor = self._file()
            if descriptor is None:
                yield
                return
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)


@contextmanager
def one_writer_at_a_time() -> Iterator[None]:
    """On SQLite, let the site's writes of the agent API go one at a time, each waiting its turn here.

    SQLite has one writer at a time anyway. Left to its busy timeout, every
    waiting request polls for the lock, sleeping up to 100 ms between tries
    (the lock may lie free meanwhile), and a request that keeps losing fails
    after the timeout: under a steady stream of batches some agents got 500s,
    and the others waited longer than their writes took. Waiting here, in
    this worker's lock and then the lock of a file every worker shares, hands
    the lock on at once, in turn. PostgreSQL locks only the rows a batch
    writes, so its batches go on side by side.
    """
    bind = db.session.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    turns = current_app.extensions.get("agent_writer_turns")
    if turns is None:
        turns = current_app.extensions.setdefault("agent_writer_turns", WriterTurns(bind.url.database))
    with turns.turn():
        yield


def accept_batch(location: Location, batch: Batch, now: datetime) -> int:
    """Record ``batch`` from ``location`` once, as the site's runner records its own; return how many results
    it held. Commits.

    Each result is damped at the location and combined with the check's
    other locations (runner/results.py), in one write transaction with the
    batch's id, so a batch is either taken whole once or not at all.
    """
    # As authenticated: its columns stay as read while the transactions below begin and end.
    db.session.expunge(location)
    with one_writer_at_a_time():
        return rows_at_once_else_one_by_one(lambda one_by_one: _take(location, batch, now, one_by_one))


def _take(location: Location, batch: Batch, now: datetime, one_by_one: bool) -> int:
    """``accept_batch``'s work, in its write transaction."""
    session = db.session
    named = {check_id for check_id, _ in batch.results}
    # Only the batch's own checks are looked up: a batch holds a few of the location's hundreds.
    assigned = set(session.scalars(select(CheckLocation.check_id).where(
        CheckLocation.location_id == location.id, CheckLocation.check_id.in_(named)))) if named else set()
    foreign = sorted(named - assigned)
    if foreign:
        raise AgentRefused(403, "not_assigned", "the batch holds results for checks this location does not "
                                                "probe: " + ", ".join(map(str, foreign[:20])), checks=foreign)
    try:
        session.execute(insert(AgentBatch).values(location_id=location.id, batch_id=batch.batch_id, received_at=now,
                                                  results=len(batch.results)))
    except IntegrityError:
        # The refusal rolls the whole transaction back: nothing of the batch was written yet.
        raise AgentRefused(409, "duplicate_batch", f"batch {batch.batch_id} was already received") from None
    record_located(location, batch.results, get_plugins(current_app), now, one_by_one)
    session.execute(update(Location).where(Location.id == location.id).values(
        last_contact_at=now, agent_version=batch.agent_version or location.agent_version,
        clock_offset_seconds=batch.offset_seconds, backlog=batch.backlog, dropped=batch.dropped))
    return len(batch.results)
