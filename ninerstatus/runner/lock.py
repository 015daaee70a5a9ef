"""One runner per SQLite database: an exclusive lock on a file beside the database.

SQLite has one writer at a time, so a second runner would only fight the
first for the lock and probe every check twice. ``flock`` locks belong to
the open file, so the kernel drops the lock when its process dies however
it dies: a crashed runner never leaves a stale lock behind.
"""
from __future__ import annotations

import fcntl
import os
import socket
from pathlib import Path
from typing import IO


class RunnerRefused(RuntimeError):
    """Another runner already works on this database; the message says what to do."""


def lock_path(database: str | None, instance_path: str) -> Path:
    """The lock file of a SQLite database (in the instance folder for an in-memory one)."""
    if not database or database == ":memory:":
        return Path(instance_path) / "runner.lock"
    return Path(f"{database}.runner-lock")


def hold_sqlite_lock(path: Path, database: str | None) -> IO[str]:
    """Take the single-runner lock at ``path`` or raise ``RunnerRefused``; close the file to let go."""
    handle = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise RunnerRefused(
            f"A probe runner is already running on the SQLite database {database} ({holder}). "
            "SQLite takes one runner at a time: stop that one first, or move the site to PostgreSQL "
            "(DATABASE_URL) to run several runners side by side.") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()}\n")
    handle.flush()
    return handle
