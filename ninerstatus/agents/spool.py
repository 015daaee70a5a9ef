"""The agent's spool: results wait here, in a small SQLite file, until the site has taken them.

Results leave in the order they were made, in batches. A batch keeps its id
and its results until the site answers for it, so a batch sent again after
a lost answer is the same batch and the site takes it once. The spool is
bounded: when it is full the oldest results not already in the batch being
sent are dropped, and counted, and the count goes to the site with every
batch so staff see it. The last assignments are kept too, so an agent
restarted while the site is unreachable goes on probing.

Standard library only: the agent runs without the site's dependencies.
"""
from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any, NamedTuple

SCHEMA = """
CREATE TABLE IF NOT EXISTS results (seq INTEGER PRIMARY KEY AUTOINCREMENT, check_id INTEGER NOT NULL,
                                    result TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS batch (batch_id TEXT PRIMARY KEY, first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Batch(NamedTuple):
    """Results to send together under one id, oldest first: (check id, result as JSON-ready dict).

    ``first`` and ``last`` are the spool's numbers of its first and last result (every result the spool
    ever kept has the next number), so a log of batches shows that none was skipped or sent twice.
    """

    batch_id: str
    results: list[tuple[int, dict[str, Any]]]
    first: int
    last: int


class Spool:
    """A bounded, ordered store of results waiting for the site; safe to use from many threads."""

    def __init__(self, path: Path, max_results: int) -> None:
        self.max_results = max(1, max_results)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The spool holds the checks' settings (passwords too): only its owner may read it.
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)
        self.agent_id = self._meta("agent_id") or self._set_meta("agent_id", secrets.token_hex(6))

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> str:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
        return value

    def add(self, check_id: int, result: dict[str, Any]) -> int:
        """Keep one result and return its number; when the spool is full, drop the oldest that are not being sent
        (and count them)."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            seq = self._db.execute("INSERT INTO results (check_id, result) VALUES (?, ?)",
                                   (check_id, json.dumps(result))).lastrowid
            over = self._count() - self.max_results
            if over > 0:
                sending = self._db.execute("SELECT COALESCE(MAX(last_seq), 0) FROM batch").fetchone()[0]
                dropped = self._db.execute(
                    "DELETE FROM results WHERE seq IN (SELECT seq FROM results WHERE seq > ? ORDER BY seq LIMIT ?)",
                    (sending, over)).rowcount
                self._set_meta("dropped", str(self._dropped() + dropped))
            return seq

    def _count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]

    def _dropped(self) -> int:
        return int(self._meta("dropped") or 0)

    def backlog(self) -> int:
        """How many results wait."""
        with self._lock:
            return self._count()

    def dropped(self) -> int:
        """How many results were dropped because the spool was full, since the spool was made."""
        with self._lock:
            return self._dropped()

    def next_batch(self, size: int) -> Batch | None:
        """The batch to send: the one already being sent, else the next ``size`` oldest results; None when empty."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT batch_id, first_seq, last_seq FROM batch").fetchone()
            if row is None:
                seqs = [seq for (seq,) in self._db.execute("SELECT seq FROM results ORDER BY seq LIMIT ?", (size,))]
                if not seqs:
                    return None
                # Never an id used before: the site refuses a known id as a batch it already has.
                number = int(self._meta("batches") or 0) + 1
                self._set_meta("batches", str(number))
                row = (f"{self.agent_id}-{number}", seqs[0], seqs[-1])
                self._db.execute("INSERT INTO batch (batch_id, first_seq, last_seq) VALUES (?, ?, ?)", row)
            batch_id, first, last = row
            results = [(check_id, json.loads(text)) for check_id, text in self._db.execute(
                "SELECT check_id, result FROM results WHERE seq BETWEEN ? AND ? ORDER BY seq", (first, last))]
            return Batch(batch_id, results, first, last)

    def sent(self, batch_id: str) -> None:
        """Forget the batch ``batch_id`` and its results: the site has them."""
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT first_seq, last_seq FROM batch WHERE batch_id = ?", (batch_id,)).fetchone()
            if row is not None:
                self._db.execute("DELETE FROM results WHERE seq BETWEEN ? AND ?", row)
                self._db.execute("DELETE FROM batch WHERE batch_id = ?", (batch_id,))

    def unsend(self, batch_id: str, check_ids: set[int]) -> int:
        """Take the results of ``check_ids`` out of the batch being sent and start a new batch; return how many.

        For results the site will not take (checks no longer assigned to this
        location): the rest go again under a new id, since a batch id always
        means the same results.
        """
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT first_seq, last_seq FROM batch WHERE batch_id = ?", (batch_id,)).fetchone()
            if row is None:
                return 0
            marks = ",".join("?" * len(check_ids))
            removed = self._db.execute(f"DELETE FROM results WHERE seq BETWEEN ? AND ? AND check_id IN ({marks})",
                                       (*row, *sorted(check_ids))).rowcount
            self._db.execute("DELETE FROM batch WHERE batch_id = ?", (batch_id,))
            return removed

    def keep_assignments(self, document: dict[str, Any]) -> None:
        """Remember the latest assignments, for a restart while the site cannot be reached."""
        with self._lock, self._db:
            self._set_meta("assignments", json.dumps(document))

    def assignments(self) -> dict[str, Any] | None:
        """The assignments remembered last, if any."""
        with self._lock:
            text = self._meta("assignments")
        return json.loads(text) if text else None
