"""``ninerstatus runner``: the long-running probe runner process."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from ..site_settings import keep_stored_settings
from .lock import RunnerRefused
from .loop import ProbeRunner
from .memory import freeze_startup_objects, share_malloc_arenas


@click.command("runner")
@with_appcontext
def runner_command() -> None:
    """Probe due checks until stopped (SIGTERM or Ctrl-C); one runner per SQLite database."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = threading.Event()

    def request_stop(signum: int, _frame) -> None:
        # Probes in flight end by their deadline (the check's timeout), so stopping never hangs.
        # The stop comes first: saying so may fail (output to a closed pipe) and must not undo it.
        stop.set()
        say(f"{signal.Signals(signum).name}: finishing the probes in flight, then stopping.")

    signal.signal(signal.SIGTERM, request_stop)
    # Started in the background by a script, the runner inherits an ignored SIGINT and
    # should keep it so: the terminal's Ctrl-C reaches the script, which sends SIGTERM.
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, request_stop)
    share_malloc_arenas()  # before the probe threads start: each keeps the arena it is given
    app = current_app._get_current_object()
    # The notifier hooks ask for the stored settings at every state change: thousands a minute on a busy day.
    keep_stored_settings(app)
    try:
        with ProbeRunner(app) as runner:
            say(f"Probe runner {runner.owner} running; Ctrl-C or SIGTERM stops it.")
            freeze_startup_objects()
            runner.run(stop)
    except RunnerRefused as refusal:
        raise click.ClickException(str(refusal)) from None


def say(message: str) -> None:
    """Print ``message`` if anyone still reads it.

    A runner started by a script that has gone away writes into a closed
    pipe; it carries on (and stops when asked) with its output sent nowhere,
    as Python's documentation advises for SIGPIPE.
    """
    try:
        click.echo(message)
    except OSError:  # BrokenPipeError, or the terminal gone
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
