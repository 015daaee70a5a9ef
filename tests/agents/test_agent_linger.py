"""The agent gathers fresh results into one batch for a linger, and sends a backlog at once in full batches."""
from __future__ import annotations

import threading

import pytest

from ninerstatus.agents.agent import Agent
from ninerstatus.agents.client import Answer
from ninerstatus.agents.spool import Spool

from ..waiting import wait_until

RESULT = {"status": "OK", "summary": "fine", "checked_at": "2026-12-02T10:00:00+00:00"}


class Site:
    """A site that takes every batch, keeping the check ids of each."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def call(self, method: str, path: str, payload=None) -> Answer:
        if path == "results":
            self.batches.append([item["check_id"] for item in payload["results"]])
        return Answer(200, {"accepted": len(payload["results"]) if payload else 0, "checks": []})


@pytest.fixture
def reporting(tmp_path):
    """Start an agent's reporter (with the given linger and batch size) against ``Site``; stop it afterwards."""
    started = []

    def start(linger: float, batch_size: int, kept_before: int = 0) -> tuple[Agent, Site]:
        spool = Spool(tmp_path / "spool.sqlite", 1000)
        for check_id in range(kept_before):  # results of an earlier run of the agent
            spool.add(check_id, RESULT)
        site = Site()
        agent = Agent(site, spool, {}, tmp_path, batch_size=batch_size, linger=linger)
        thread = threading.Thread(target=agent._report, daemon=True)
        thread.start()
        started.append((agent, thread))
        return agent, site

    yield start
    for agent, thread in started:
        agent.stop.set()
        thread.join(timeout=30)


def keep(agent: Agent, check_id: int) -> None:
    """Keep a result as a probe does."""
    agent._keep(check_id, RESULT)


def test_fresh_results_wait_for_a_full_batch_within_the_linger(reporting):
    agent, site = reporting(linger=3600, batch_size=3)
    for check_id in range(5):
        keep(agent, check_id)
    wait_until(lambda: site.batches, message="the full batch goes before the linger ends")
    assert site.batches == [[0, 1, 2]]
    assert agent.spool.backlog() == 2  # the other two linger still
    assert agent.linger_left() > 0


def test_a_lone_result_goes_once_it_has_lingered(reporting):
    agent, site = reporting(linger=0.2, batch_size=500)
    keep(agent, 7)
    wait_until(lambda: site.batches, message="the lone result, after its linger")
    assert site.batches == [[7]] and agent.spool.backlog() == 0


def test_a_backlog_goes_at_once_in_full_batches_back_to_back(reporting):
    agent, site = reporting(linger=3600, batch_size=2, kept_before=5)
    wait_until(lambda: agent.spool.backlog() == 0, message="the backlog, without lingering")
    assert site.batches == [[0, 1], [2, 3], [4]]
    keep(agent, 9)  # a fresh one lingers again
    assert agent.linger_left() > 0
