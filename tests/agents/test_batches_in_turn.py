"""Batches arriving together are all taken: on SQLite they wait their turn (among a worker's threads, then among
the site's processes), not SQLite's lock."""
from __future__ import annotations

import fcntl
import os
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


def lock_is_free(path: str) -> bool:
    """Whether another process could take the lock of the file at ``path`` now."""
    descriptor = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return True
    finally:
        os.close(descriptor)


def test_a_batch_holds_the_sites_writer_turn_while_it_is_written(app, agent_site, monkeypatch, backend):
    if backend != "sqlite":
        pytest.skip("PostgreSQL locks the rows a batch writes: its batches go side by side")
    from ninerstatus.agents import ingest

    record, seen = ingest.record_located, []
    with app.app_context():
        path = f"{db.engine.url.database}.writers.lock"

    def looking(*args, **kwargs):
        seen.append(lock_is_free(path))  # as another web worker would find it
        return record(*args, **kwargs)

    monkeypatch.setattr(ingest, "record_located", looking)
    body = batch("turn", result_for(agent_site.mine))
    assert agent_call(app.test_client(), agent_site.token, "POST", RESULTS, body).status_code == 200
    assert seen == [False] and lock_is_free(path)
