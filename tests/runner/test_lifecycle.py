"""A runner's life: one per SQLite database, a heartbeat while it runs, and a clean stop on SIGTERM."""
from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
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


def runner_process(ctx, tmp_path, **streams):
    """``ninerstatus runner`` on the test's database, as staff would start it; stopped after the block.

    Its output comes through one pipe unless ``streams`` say otherwise.
    """
    env = {**os.environ, "NINERSTATUS_DATABASE_URL": ctx.config["SQLALCHEMY_DATABASE_URI"],
           "NINERSTATUS_INSTANCE_PATH": str(tmp_path / "instance"),
           "NINERSTATUS_PLUGINS_FOLDER": ctx.config["PLUGINS_FOLDER"]}
    return processes.started([NINERSTATUS, "runner"], env=env, text=True,
                             **{"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, **streams})


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


def read_until(stream, text: str, seconds: float = 60) -> None:
    """Read ``stream`` line by line until one holds ``text``."""
    deadline = time.monotonic() + seconds
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no line with {text!r}"
        if select.select([stream], [], [], remaining)[0]:
            line = stream.readline()
            assert line, f"the stream ended before a line with {text!r}"
            if text in line:
                return


def test_a_runner_whose_output_pipes_are_closed_still_stops_on_sigterm(ctx, tmp_path, greeter):
    add_check(make_server(), greeter.port, due=utcnow(), interval_seconds=1)
    with runner_process(ctx, tmp_path, stderr=subprocess.PIPE) as process:
        read_until(process.stdout, "running; Ctrl-C or SIGTERM stops it")
        wait_until(lambda: len(greeter.visits) >= 2)     # in its loop, round after round
        # Whoever started it has gone away: its "stopping" line now goes into closed pipes.
        process.stdout.close()
        process.stderr.close()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    assert process.returncode == 0
    reread()
    assert db.session.scalars(db.select(RunnerHeartbeat)).all() == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_runner_command_refuses_a_second_runner_on_sqlite_with_a_clear_message(probe_runner, ctx, tmp_path):
    with runner_process(ctx, tmp_path) as process:
        output, _ = process.communicate(timeout=PATIENCE)
    assert process.returncode == 1
    assert "A probe runner is already running on the SQLite database" in output
    assert "move the site to PostgreSQL" in output
