"""An agent probes its checks on schedule and reports to a real site over HTTP: each result once, in order,
across a stretch while the site is down."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from ninerstatus.agents.agent import Agent
from ninerstatus.agents.client import SiteClient
from ninerstatus.agents.models import AgentBatch, CheckLocation
from ninerstatus.agents.spool import Spool
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import TlsMode

from ..factories import make_server as make_status_server
from ..plugins.mailservers import SmtpServer
from ..waiting import wait_until
from .conftest import add_location


@contextmanager
def site_on(app, port: int = 0) -> Iterator[int]:
    """Serve ``app`` on 127.0.0.1 (on ``port``, or a free one) in threads; yield the port."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=30)
        server.server_close()


@pytest.fixture
def smtp_target() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.stop()


@pytest.fixture
def agent_location(app, smtp_target) -> tuple[int, int, str]:
    """A check of the SMTP target every second, assigned to location Lusaka: (check id, location id, token)."""
    with app.app_context():
        check = Check(server=make_status_server("NC036"), type_name="smtp", label="Submission", host="127.0.0.1",
                      port=smtp_target.port, tls_mode=TlsMode.NONE, interval_seconds=1, timeout_seconds=10)
        db.session.add(check)
        db.session.commit()
        location, token = add_location("Lusaka", [check.id], network="MTN")
        return check.id, location.id, token


def batches(app, location_id: int) -> list[AgentBatch]:
    with app.app_context():
        return list(db.session.scalars(select(AgentBatch).where(AgentBatch.location_id == location_id)
                                       .order_by(AgentBatch.received_at)))


def made(spool_path) -> int:
    """How many results the agent ever put in its spool."""
    with sqlite3.connect(spool_path) as conn:
        return conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'results'").fetchone()[0]


def test_results_reach_the_site_once_and_in_order_across_a_site_outage(app, tmp_path, agent_location):
    check_id, location_id, token = agent_location
    spool_path = tmp_path / "agent" / "spool.sqlite"
    with site_on(app) as port:
        agent = Agent(SiteClient(f"http://127.0.0.1:{port}/", token), Spool(spool_path, 10_000),
                      get_plugins(app).check_types, spool_path.parent, batch_size=2)
        running = threading.Thread(target=agent.run, daemon=True)
        running.start()
        try:
            wait_until(lambda: len(batches(app, location_id)) >= 2, message="the agent's first batches reach the site")
        except BaseException:
            agent.stop.set()
            raise
    try:
        # The site is down: the agent goes on probing and keeps the results.
        wait_until(lambda: agent.spool.backlog() >= 4, message="results wait in the spool while the site is down")
        taken_while_down = len(batches(app, location_id))
        with site_on(app, port):
            wait_until(lambda: agent.spool.backlog() == 0 and len(batches(app, location_id)) > taken_while_down + 1,
                       message="the spooled results reach the site once it is back")
            agent.stop.set()
            running.join(timeout=60)
            while agent.report_once():  # whatever was probed while stopping
                pass
    finally:
        agent.stop.set()
    received = batches(app, location_id)
    assert sum(batch.results for batch in received) == made(spool_path)
    numbers = [int(batch.batch_id.rsplit("-", 1)[1]) for batch in received]
    assert numbers == sorted(numbers) == list(range(numbers[0], numbers[0] + len(numbers)))
    with app.app_context():
        row = db.session.get(CheckLocation, (check_id, location_id))
        assert row.last_result["status"] == "OK" and row.last_result["summary"].startswith("SMTP ok")


def test_results_of_a_check_no_longer_assigned_are_set_aside_and_the_rest_still_arrive(app, tmp_path, agent_location):
    check_id, location_id, token = agent_location
    with site_on(app) as port:
        spool = Spool(tmp_path / "spool.sqlite", 100)
        agent = Agent(SiteClient(f"http://127.0.0.1:{port}/", token), spool, get_plugins(app).check_types, tmp_path)
        assert agent.refresh()
        spool.add(check_id, {"status": "OK", "summary": "kept", "checked_at": "2026-12-02T10:00:00+00:00"})
        spool.add(check_id + 100, {"status": "OK", "summary": "stale", "checked_at": "2026-12-02T10:00:00+00:00"})
        assert agent.report_once()  # refused whole: one check is not this location's
        assert agent.report_once()  # the rest, under a new id
        assert spool.backlog() == 0
    with app.app_context():
        assert db.session.scalar(select(func.sum(AgentBatch.results))) == 1
        assert db.session.get(CheckLocation, (check_id, location_id)).last_result["summary"] == "kept"


def test_an_agent_started_while_the_site_is_down_probes_what_it_was_last_assigned(app, tmp_path, agent_location):
    check_id, location_id, token = agent_location
    spool_path = tmp_path / "spool.sqlite"
    with site_on(app) as port:
        first = Agent(SiteClient(f"http://127.0.0.1:{port}/", token), Spool(spool_path, 100),
                      get_plugins(app).check_types, tmp_path)
        assert first.refresh()
        first.spool.close()
    again = Agent(SiteClient(f"http://127.0.0.1:{port}/", token), Spool(spool_path, 100),
                  get_plugins(app).check_types, tmp_path)
    running = threading.Thread(target=again.run, daemon=True)
    running.start()
    try:
        wait_until(lambda: again.spool.backlog() >= 1, message="the agent probes the checks it was last assigned")
    finally:
        again.stop.set()
        running.join(timeout=60)
    batch = again.spool.next_batch(10)
    assert {check for check, _ in batch.results} == {check_id}
