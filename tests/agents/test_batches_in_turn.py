"""Batches arriving together at one web worker are all taken: on SQLite they wait their turn, not SQLite's lock."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from ninerstatus.agents.models import AgentBatch
from ninerstatus.extensions import db

from .conftest import agent_call, batch, result_for

RESULTS = "/api/agent/v1/results"
TOGETHER = 6


@pytest.fixture
def app_config(app_config, backend):
    """Give up waiting for SQLite's lock after a few milliseconds: a batch that waited there would fail."""
    if backend == "sqlite":
        return {**app_config, "SQLITE_BUSY_TIMEOUT_MS": 20}
    return app_config


def test_batches_sent_together_are_all_taken(app, agent_site, monkeypatch):
    from ninerstatus.agents import ingest

    record = ingest.record_located

    def slowly(*args, **kwargs):
        time.sleep(0.1)  # a batch that takes its time to write, as on a busy machine
        return record(*args, **kwargs)

    monkeypatch.setattr(ingest, "record_located", slowly)
    start = threading.Barrier(TOGETHER)

    def send(number: int) -> int:
        client = app.test_client()
        body = batch(f"together-{number}", result_for(agent_site.mine, checked_at=f"2026-12-02T10:00:{number:02d}Z"))
        start.wait()
        return agent_call(client, agent_site.token, "POST", RESULTS, body).status_code

    with ThreadPoolExecutor(TOGETHER) as pool:
        statuses = list(pool.map(send, range(TOGETHER)))
    assert statuses == [200] * TOGETHER
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AgentBatch)) == TOGETHER
