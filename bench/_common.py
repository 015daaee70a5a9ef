"""What the benchmarks share: a site in a temporary instance folder, child processes, /proc figures.

Every benchmark builds its own site (a fresh database in a temporary instance
folder, so the checkout's ``instance/`` is never read or written), starts what
it measures as child processes on free loopback ports, and stops each of them
by its own process id when it is done, whatever happened meanwhile.
"""
from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    """Return once 127.0.0.1:``port`` accepts connections; fail if ``process`` ends or time runs out."""
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


class Site:
    """A ninerstatus site of its own: a temporary instance folder and a fresh database.

    :param database_url: an empty database to use instead of a new SQLite file there.
    :param plugins_folder: local plugin files to load (the bench's "banner" check type).
    """

    def __init__(self, database_url: str | None = None, plugins_folder: Path | None = None,
                 **config: object) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ninerstatus-bench-"))
        self.sqlite_path = None if database_url else self.folder / "site.sqlite"
        self.database_url = database_url or f"sqlite:///{self.sqlite_path}"
        self.config = {"SECRET_KEY": "bench-" + os.urandom(8).hex(), "DATABASE_URL": self.database_url,
                       "PLUGINS_FOLDER": str(plugins_folder or self.folder / "plugins"), **config}

    def app(self) -> Flask:
        """The site's application, as the benchmark's own process uses it."""
        from ninerstatus import create_app

        return create_app(self.config, check_secret=False)

    def create_schema(self) -> Flask:
        """Upgrade the database to the newest migration and return the app."""
        from flask_migrate import upgrade

        app = self.app()
        with app.app_context():
            upgrade()
        return app

    def environment(self) -> dict[str, str]:
        """Environment for a ``ninerstatus`` command working on this site."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("NINERSTATUS_")}
        env["NINERSTATUS_INSTANCE_PATH"] = str(self.folder)
        env.update({f"NINERSTATUS_{key}": str(value) for key, value in self.config.items()})
        return env

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class Children(ExitStack):
    """Child processes started for one benchmark; each is stopped by its pid on exit."""

    def start(self, args: Sequence[str], *, env: dict[str, str] | None = None, log: Path | None = None,
              **options) -> subprocess.Popen:
        """Start ``args`` in a new session (a Ctrl-C reaches only the benchmark, which stops it).

        Its output goes to ``log``, or nowhere.
        """
        output = open(log, "wb") if log else subprocess.DEVNULL
        self.callback(lambda: log and output.close())
        process = subprocess.Popen(list(args), env=env, stdout=output, stderr=output, start_new_session=True,
                                   **options)
        self.callback(stop, process)
        return process


def stop(process: subprocess.Popen, grace: float = 15.0) -> None:
    """SIGTERM ``process`` (and its process group: granian's workers), then SIGKILL after ``grace``."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def ninerstatus_command(*args: str) -> list[str]:
    """The command line of the ``ninerstatus`` script installed beside this Python."""
    return [str(BIN / "ninerstatus"), *args]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds used by process ``pid`` so far (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def group_cpu_seconds(pgid: int) -> float:
    """User plus system CPU seconds used so far by the live processes of process group ``pgid`` (a server's workers)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory of process ``pid`` now and at its peak, in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` percentile of ``values`` (nearest rank); NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def load_average() -> float:
    """The machine's load average over the last minute: other work there skews every figure."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def require(program: str, package: str) -> str:
    """The path of ``program``, or exit saying which Debian package provides it."""
    path = shutil.which(program, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/lib/nagios/plugins")
    if path is None:
        sys.exit(f"{program} is missing: apt-get install {package}")
    return path


@contextmanager
def own_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of ``server_url``; yield its URL, drop it afterwards.

    ``server_url`` names a database the benchmark may connect to and create
    databases from (``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``);
    that one is never written to.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"ninerstatus_bench_{os.getpid()}_{os.urandom(4).hex()}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def add_bench_site_arguments(parser) -> None:
    """The options that shape the bench site (posts, checks, days of history) and the wrk runs over it."""
    parser.add_argument("--database-url", help="a fresh, empty database (default: a new SQLite file)")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--checks-per-server", type=int, default=10)
    parser.add_argument("--days", type=int, default=365, help="days of history")
    parser.add_argument("--detailed-days", type=int, default=30,
                        help="latest days written at one result a minute (default: the 5-minute tier's 30)")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=32)
