"""Serving the site: ``ninerstatus serve`` (granian), and tying its workers to it.

Granian runs the site in worker processes. Killed outright (SIGKILL, the OOM
killer), the main process cannot stop them, and they would go on serving, a
restarted ``serve`` binding the same port beside them. So ``serve`` tells its
workers its process id, and each worker asks the kernel (Linux
``PR_SET_PDEATHSIG``) to send it SIGTERM, granian's own stop signal, when that
process ends: the kernel's signal comes at once whatever the worker is doing.
A worker can still miss it: granian forgets a stop signal that arrives while
the worker is starting up. So a watchdog thread in each worker looks for its
serve every second, repeats the signal while the worker lives on without it,
and ends the worker outright once a drain's worth of time has passed.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

# Where serve leaves its process id for its workers (not NINERSTATUS_*: it is no setting).
SERVE_PID_VARIABLE = "_NINERSTATUS_SERVE_PID"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
# How often a worker's watchdog looks for its serve, and how long an orphaned worker may
# take to finish the requests it holds after the first stop signal.
WATCHDOG_SECONDS = 1.0
ORPHAN_DRAIN_SECONDS = 30.0

# Granian holds one of a worker's connection permits ("backpressure") for as long as a
# connection stays open, busy or idle; with as few permits as threads, a handful of
# idle keep-alive connections stalled every new visitor. So permits get granian's own
# default (the listen backlog shared out between the workers), never fewer than a few per
# thread, and an idle or slow connection gives its permit back after the keep-alive time.
LISTEN_BACKLOG = 1024
MIN_CONNECTIONS_PER_THREAD = 4
# The pages benchmark served most pages a second with 8 threads per worker, even on 2 CPUs.
DEFAULT_THREADS = 8


def _connections_per_worker(workers: int, threads: int) -> int:
    """How many connections, busy or idle, each worker keeps open at most."""
    return max(LISTEN_BACKLOG // workers, MIN_CONNECTIONS_PER_THREAD * threads)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=lambda: os.cpu_count() or 1, type=click.IntRange(1, 64),
              show_default="one per CPU", help="Worker processes.")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker that run requests, one request each at a time.")
@click.option("--keep-alive", default=5, show_default=True, type=click.IntRange(1, 60), metavar="SECONDS",
              help="Close a connection idle this long, or one that takes longer to send a request's headers.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int, keep_alive: int) -> None:
    """Serve the site with the production WSGI server (granian).

    Each worker keeps at most max(1024 / workers, 4 x threads) connections open;
    further clients wait in the listen backlog. HTTP/1.1 only: browsers speak
    HTTP/2 only over TLS, which a reverse proxy in front of the site provides.
    """
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    from . import ConfigError, ensure_production_secret
    from .metrics.views import REQUESTS_KEY as METRICS_REQUESTS_KEY
    from .metrics.web import prepare_worker_folder

    # Each worker builds its own app from the same environment; check here first so a
    # missing secret key is one clear message, not a crash in every worker.
    try:
        ensure_production_secret(current_app)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Serving ninerstatus on http://{host}:{port}/ with {workers} worker(s) of {threads} thread(s); "
               "Ctrl-C stops.")
    # Cleartext HTTP/2 is off: granian never times out an idle HTTP/2 connection, and its
    # streams would let one connection queue hundreds of requests past the permits.
    server = Granian("ninerstatus.wsgi:app", address=host, port=port, interface=Interfaces.WSGI,
                     http=HTTPModes.http1, workers=workers, blocking_threads=threads, backlog=LISTEN_BACKLOG,
                     backpressure=_connections_per_worker(workers, threads),
                     http1_settings=HTTP1Settings(header_read_timeout=keep_alive * 1000), log_access=False)
    if threads <= DEFAULT_THREADS:
        # Granian warns of "quite high" thread counts above 2 x CPUs + 1, which our measured
        # default is on small machines: a warning on every start that asks for no change.
        logging.getLogger("_granian").addFilter(lambda record: "Python threads" not in record.getMessage())
    # Workers inherit the environment: each one ties itself to this process (see end_with_serve).
    os.environ[SERVE_PID_VARIABLE] = str(os.getpid())
    if METRICS_REQUESTS_KEY in current_app.extensions:
        # Request counts are added up across the workers in a folder of their own (see metrics/web.py).
        prepare_worker_folder(current_app.instance_path)
    server.serve()


def end_with_serve() -> None:
    """In a worker of ``ninerstatus serve``: be sent SIGTERM when serve's main process ends.

    Does nothing outside a worker process of ``serve`` (another server runs
    ``ninerstatus.wsgi`` its own way) or off Linux.
    """
    serve_pid = os.environ.get(SERVE_PID_VARIABLE)
    if (not serve_pid or int(serve_pid) == os.getpid() or not sys.platform.startswith("linux")
            or threading.current_thread() is not threading.main_thread()):
        return
    # A forked worker starts with serve's own SIGTERM handler, which would swallow the
    # signal until granian installs the worker's; until then SIGTERM simply ends it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    # The kernel signals only a parent's death after the call: serve may have ended before it.
    if os.getppid() != int(serve_pid):
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch_serve, args=(int(serve_pid),), name="serve-watchdog", daemon=True).start()


def watch_serve(serve_pid: int, *, every: float = WATCHDOG_SECONDS, drain: float = ORPHAN_DRAIN_SECONDS,
                wait=threading.Event().wait) -> None:
    """Once this process's parent is no longer ``serve_pid``: SIGTERM it every ``every`` seconds, then end it.

    After ``drain`` seconds of signals it exits at once (status 1): its requests have
    had their time, and a worker left serving without its serve is worse than none.
    ``wait`` is the pause, for tests.
    """
    while os.getppid() == serve_pid:
        wait(every)
    orphaned_for = 0.0
    while orphaned_for < drain:
        os.kill(os.getpid(), signal.SIGTERM)
        wait(every)
        orphaned_for += every
    os._exit(1)
