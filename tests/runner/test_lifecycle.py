"""A runner's life: one per SQLite database, a heartbeat while it runs, and a clean stop on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.runner.lock import RunnerRefused
from ninerstatus.runner.loop import ProbeRunner
from ninerstatus.runner.models import RunnerHeartbeat
from ninerstatus.timeutil import utcnow

from .. import processes
from ..factories import make_server
from ..waiting import PATIENCE, wait_until
from .conftest import START, add_check, reread
from .services import GreetingServer

NINERSTATUS = Path(sys.executable).with_name("ninerstatus")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_second_runner_on_one_sqlite_database_refuses_to_start(probe_runner, ctx):
    with pytest.raises(RunnerRefused) as refusal:
        ProbeRunner(ctx).__enter__()
    message = str(refusal.value)
    assert f"already running on the SQLite database {ctx.config['DATABASE_URL'].split('///')[1]}" in message
    assert f"pid {os.getpid()}" in message and "PostgreSQL" in message


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_sqlite_lock_goes_with_the_runner(ctx, clock):
    with ProbeRunner(ctx, clock=clock):
        pass
    with ProbeRunner(ctx, clock=clock):
        pass


def test_a_running_runner_keeps_a_heartbeat_and_removes_it_when_it_stops(ctx, clock):
    with ProbeRunner(ctx, clock=clock) as runner:
        reread()
        beat = db.session.get(RunnerHeartbeat, runner.owner)
        assert (beat.pid, beat.heartbeat_at, beat.started_at) == (os.getpid(), START, START)
    reread()
    assert db.session.get(RunnerHeartbeat, runner.owner) is None


def runner_process(ctx, tmp_path):
    """``ninerstatus runner`` on the test's database, as staff would start it; stopped after the block."""
    env = {**os.environ, "NINERSTATUS_DATABASE_URL": ctx.config["SQLALCHEMY_DATABASE_URI"],
           "NINERSTATUS_INSTANCE_PATH": str(tmp_path / "instance"),
           "NINERSTATUS_PLUGINS_FOLDER": ctx.config["PLUGINS_FOLDER"]}
    return processes.started([NINERSTATUS, "runner"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)


def test_sigterm_lets_the_probe_in_flight_finish_records_it_and_releases_everything(ctx, tmp_path):
    slow = GreetingServer(delay=1.5)
    try:
        check = add_check(make_server(), slow.port, due=utcnow(), interval_seconds=3600, timeout_seconds=5)
        with runner_process(ctx, tmp_path) as process:
            wait_until(lambda: slow.visits)          # the probe is waiting for the slow greeting now
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=PATIENCE)
    finally:
        slow.close()
    assert process.returncode == 0, output
    assert "SIGTERM: finishing the probes in flight" in output
    reread()
    stored = db.session.get(Check, check.id)
    assert stored.result is not None and stored.result.summary.startswith("banner 220 ready")
    assert (stored.lease_owner, stored.lease_until) == (None, None)
    assert db.session.scalars(db.select(RunnerHeartbeat)).all() == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_runner_command_refuses_a_second_runner_on_sqlite_with_a_clear_message(probe_runner, ctx, tmp_path):
    with runner_process(ctx, tmp_path) as process:
        output, _ = process.communicate(timeout=PATIENCE)
    assert process.returncode == 1
    assert "A probe runner is already running on the SQLite database" in output
    assert "move the site to PostgreSQL" in output
