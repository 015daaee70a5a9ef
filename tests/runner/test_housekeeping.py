"""Beside probing: notifications are sent and history pruned on their own cadence, never in the probes' way."""
from __future__ import annotations

import threading

import pytest

from ninerstatus.runner import housekeeping
from ninerstatus.runner.housekeeping import BACKLOG_PAUSE, PRUNE_BATCH, Housekeeper
from ninerstatus.timeutil import utcnow

from ..factories import make_server
from ..waiting import PATIENCE, wait_until
from .conftest import add_check, running


@pytest.fixture
def app_config(plugins_folder):
    return {"PLUGINS_FOLDER": str(plugins_folder), "RUNNER_DELIVERY_SECONDS": 0.2, "RUNNER_PRUNE_SECONDS": 0.5}


class PassingTime(threading.Event):
    """A stop event for a housekeeper on a test clock: each wait moves ``seconds`` on at once.

    It is set (the housekeeper stops) by the first wait that reaches ``until``.
    """

    def __init__(self, seconds: list[float], until: float) -> None:
        super().__init__()
        self.seconds, self.until = seconds, until

    def wait(self, timeout: float | None = None) -> bool:
        self.seconds[0] += timeout
        if self.seconds[0] >= self.until:
            self.set()
        return self.is_set()


def test_a_failing_mail_server_that_hangs_neither_stops_delivery_nor_delays_probes(ctx, greeter, monkeypatch):
    deliveries, prunes = [], []
    answer = threading.Event()

    def deliver_due(now, budget_seconds):
        deliveries.append(now)
        answer.wait(PATIENCE)  # until the test has seen the probes go on meanwhile
        raise OSError("the mail server does not answer")

    monkeypatch.setattr(housekeeping, "deliver_due", deliver_due)
    monkeypatch.setattr(housekeeping, "prune_batch", lambda now, limit: prunes.append(now) or 0)
    add_check(make_server(), greeter.port, due=None, interval_seconds=1)
    with running(ctx):
        try:
            wait_until(lambda: deliveries)
            before = len(greeter.visits)
            wait_until(lambda: len(greeter.visits) >= before + 3)  # one probe a second goes on...
            assert len(deliveries) == 1                            # ...while the first delivery still hangs
        finally:
            answer.set()
        wait_until(lambda: len(deliveries) >= 3 and len(prunes) >= 2)  # tried again after each failure


def test_a_prune_that_filled_its_batch_comes_back_soon_for_the_rest(ctx, monkeypatch):
    seconds = [0.0]
    prunes = []
    monkeypatch.setattr(housekeeping, "deliver_due", lambda now, budget_seconds: 0)
    monkeypatch.setattr(housekeeping, "prune_batch",
                        lambda now, limit: prunes.append(seconds[0]) or (limit if len(prunes) < 3 else 0))
    ctx.config.update(RUNNER_PRUNE_SECONDS=60, RUNNER_DELIVERY_SECONDS=3600)
    Housekeeper(ctx, utcnow, PassingTime(seconds, until=100), monotonic=lambda: seconds[0]).run()
    # Two full batches, each followed by a short pause; then the backlog was gone and the usual cadence is back.
    assert PRUNE_BATCH > 0
    assert prunes == [0, BACKLOG_PAUSE, 2 * BACKLOG_PAUSE, 2 * BACKLOG_PAUSE + 60]


def test_a_delivery_that_used_its_whole_period_comes_back_soon_for_the_rest(ctx, monkeypatch):
    seconds = [0.0]
    deliveries = []

    def deliver_due(now, budget_seconds):
        deliveries.append(seconds[0])
        if len(deliveries) < 3:  # a broadcast's backlog: the whole period spent sending
            seconds[0] += budget_seconds
            return 100
        return 0

    monkeypatch.setattr(housekeeping, "deliver_due", deliver_due)
    monkeypatch.setattr(housekeeping, "expand_due", lambda now: 0)
    monkeypatch.setattr(housekeeping, "prune_batch", lambda now, limit: 0)
    ctx.config.update(RUNNER_PRUNE_SECONDS=3600, RUNNER_DELIVERY_SECONDS=5)
    Housekeeper(ctx, utcnow, PassingTime(seconds, until=40), monotonic=lambda: seconds[0]).run()
    # Two full periods, each followed by a short pause; then the usual cadence is back.
    assert deliveries[:4] == [0, 5 + BACKLOG_PAUSE, 2 * (5 + BACKLOG_PAUSE), 2 * (5 + BACKLOG_PAUSE) + 5]
