"""Programs the tests start, and how every one of them is ended, children included.

Each program starts as the leader of a session of its own, so everything it
starts stays in that session, even children that take process groups of their
own (as scripts/run-site.sh gives its runner and web server). Ending a program
ends its whole session. The sessions are kept in a registry too, which
tests/conftest.py empties at the end of the run and at exit: a test that failed
or timed out before its own clean-up still leaves nothing running (a runner
left behind would hold the SQLite runner lock of the next test).
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .waiting import PATIENCE

_sessions: dict[int, subprocess.Popen] = {}


def start(args: Sequence, **popen_options) -> subprocess.Popen:
    """Start ``args`` in a session of its own (``popen_options`` go to Popen) and register it."""
    process = subprocess.Popen([str(arg) for arg in args], start_new_session=True, **popen_options)
    _sessions[process.pid] = process
    return process


@contextmanager
def started(args: Sequence, *, stop_within: float = PATIENCE, **popen_options) -> Iterator[subprocess.Popen]:
    """``start(args)`` for the block; then ``stop(process)`` whatever happened in it."""
    process = start(args, **popen_options)
    try:
        yield process
    finally:
        stop(process, stop_within)


def run(args: Sequence, *, timeout: float = PATIENCE, **popen_options) -> subprocess.CompletedProcess:
    """Run ``args`` to its end, as ``subprocess.run`` does, but in a session of its own.

    Should it outlive ``timeout`` (TimeoutExpired), it is stopped with all it started.
    """
    with started(args, **popen_options) as process:
        out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def session_members(session: int) -> list[int]:
    """The live processes of ``session`` (zombies, which are already dead, left out)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        state, _parent, _group, in_session = stat.rsplit(")", 1)[1].split()[:4]
        if int(in_session) == session and state != "Z":
            members.append(int(entry.name))
    return members


def signal_session(session: int, signum: int) -> None:
    """Send ``signum`` to every process of ``session`` (whatever process group it is in)."""
    for pid in session_members(session):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def stop(process: subprocess.Popen, within: float = PATIENCE) -> None:
    """End ``process`` and its whole session: SIGTERM, then SIGKILL for what is left after ``within`` seconds.

    A process that already ended may have left children behind: those are killed too.
    """
    if process.poll() is None:
        signal_session(process.pid, signal.SIGTERM)
        try:
            process.wait(within)
        except subprocess.TimeoutExpired:
            pass
    kill(process)


def kill(process: subprocess.Popen) -> None:
    """SIGKILL everything left in ``process``'s session and reap ``process``."""
    deadline = time.monotonic() + PATIENCE
    while session_members(process.pid) and time.monotonic() < deadline:
        signal_session(process.pid, signal.SIGKILL)
        time.sleep(0.05)
    process.wait()
    _sessions.pop(process.pid, None)


def kill_all() -> None:
    """Kill every registered session still there: the safety net at the end of the run."""
    for process in list(_sessions.values()):
        kill(process)


atexit.register(kill_all)
