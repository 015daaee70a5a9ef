"""Fixtures for the probe runner: a clock the test moves, greeting servers, checks and a runner.

The runner's clock is a ``FakeClock``: a test moves it by hand and the
runner's schedule, results and states follow, so hours of scheduling take
milliseconds. Probes are real: "banner" checks connect to ``GreetingServer``
instances on 127.0.0.1.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ninerstatus import hookimpl
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Server
from ninerstatus.plugins import get_plugins
from ninerstatus.runner.loop import ProbeRunner

from ..waiting import PATIENCE
from .services import GreetingServer

TESTS = Path(__file__).parent.parent
START = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self.now += timedelta(seconds=seconds)
            return self.now


@pytest.fixture(scope="session")
def plugins_folder(tmp_path_factory) -> Path:
    """The "banner" check type of the test suite and this folder's misbehaving ones, side by side."""
    folder = tmp_path_factory.mktemp("runner-plugins")
    (folder / "banner.py").symlink_to(TESTS / "local_plugins" / "banner.py")
    (folder / "trouble.py").symlink_to(Path(__file__).parent / "plugins" / "trouble.py")
    return folder


@pytest.fixture
def app_config(plugins_folder):
    return {"PLUGINS_FOLDER": str(plugins_folder)}


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def probe_runner(ctx, clock):
    """A runner on the test's database, driven by ``clock``; ``run_due()`` runs one round to the end."""
    with ProbeRunner(ctx, clock=clock) as runner:
        yield runner


class HookCalls:
    """A plugin that keeps every probe-completed and status-changed call it gets."""

    def __init__(self) -> None:
        self.completed: list[tuple] = []
        self.changed: list[tuple] = []

    @hookimpl
    def ninerstatus_probe_completed(self, check, result):
        self.completed.append((check.id, result.status))

    @hookimpl
    def ninerstatus_status_changed(self, check, previous, current, result):
        self.changed.append((check.id, previous, current))


@pytest.fixture
def hook_calls(ctx) -> HookCalls:
    """The hook calls the app's plugins get during the test."""
    calls = HookCalls()
    get_plugins(ctx).manager.register(calls)
    return calls


@pytest.fixture
def greeter():
    """A greeting server for one test."""
    server = GreetingServer()
    yield server
    server.close()


def add_check(server: Server, port: int, *, due: datetime | None = START, **fields) -> Check:
    """Add a "banner" check of ``server`` on 127.0.0.1:``port``, due at ``due`` (None: never scheduled)."""
    values = {"type_name": "banner", "host": "127.0.0.1", "settings": {}, "interval_seconds": 60,
              "timeout_seconds": 1.0, **fields}
    check = Check(server=server, port=port, next_due_at=due, **values)
    db.session.add(check)
    db.session.commit()
    return check


def reread() -> None:
    """End the test's own read transaction, so the next query sees what the runner committed."""
    db.session.rollback()


@contextmanager
def running(app, owners: tuple[str | None, ...] = (None,)):
    """Real runners (real clock), one thread each, for the block; then stopped as SIGTERM stops them."""
    stop = threading.Event()

    def run(owner: str | None) -> None:
        with ProbeRunner(app, owner=owner) as runner:
            runner.run(stop)

    threads = [threading.Thread(target=run, args=(owner,)) for owner in owners]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=PATIENCE)
    assert not any(thread.is_alive() for thread in threads)
