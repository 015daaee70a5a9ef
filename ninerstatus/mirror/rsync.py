"""Pushing the newest mirror to another host with rsync over ssh (``--rsync user@host:path``).

The far copy is brought up to date in one pass: ``--delay-updates`` puts
every changed file in place at the end, and ``--delete-after`` removes what
the new copy no longer has only then, so a web server there serves the old
site or the new one for all but a moment. ssh runs in batch mode: a push never
waits for a password nobody will type (use a key; ``RSYNC_RSH`` replaces the
ssh command when set).
"""
from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: How long one push may take before it is stopped and counted as failed (seconds).
PUSH_TIMEOUT = 600
SSH_COMMAND = "ssh -o BatchMode=yes -o ConnectTimeout=20"


def rsync_command(generation: Path, destination: str) -> list[str]:
    """The rsync command line that makes ``destination`` a copy of ``generation``."""
    command = ["rsync", "-a", "--delete-after", "--delay-updates"]
    if "RSYNC_RSH" not in os.environ:
        command += ["-e", SSH_COMMAND]
    return [*command, f"{generation}/", destination]


def push(generation: Path, destination: str, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> bool:
    """Copy ``generation`` to ``destination``; False (and the reason logged) when it did not work."""
    command = rsync_command(generation, destination)
    try:
        finished = run(command, capture_output=True, text=True, timeout=PUSH_TIMEOUT)
    except (OSError, subprocess.SubprocessError) as error:
        log.error("mirror: could not push to %s: %s", destination, error)
        return False
    if finished.returncode != 0:
        reason = (finished.stderr or finished.stdout or "").strip().splitlines()
        log.error("mirror: rsync to %s failed (exit %s): %s", destination, finished.returncode,
                  reason[-1] if reason else "no message")
        return False
    log.info("mirror: pushed %s to %s", generation.name, destination)
    return True
