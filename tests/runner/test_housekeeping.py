"""Beside probing: notifications are sent and history pruned on their own cadence, never in the probes' way."""
from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest

from ninerstatus.runner import housekeeping
from ninerstatus.runner.housekeeping import PRUNE_BATCH, Housekeeper
from ninerstatus.timeutil import utcnow

from ..factories import make_server
from .conftest import add_check, running


@pytest.fixture
def app_config(plugins_folder):
    return {"PLUGINS_FOLDER": str(plugins_folder), "RUNNER_DELIVERY_SECONDS": 0.2, "RUNNER_PRUNE_SECONDS": 0.5}


def test_a_slow_failing_mail_server_neither_stops_delivery_nor_delays_probes(ctx, greeter, monkeypatch):
    deliveries, prunes = [], []

    def deliver_due(now, budget_seconds):
        deliveries.append(time.monotonic())
        time.sleep(1)
        raise OSError("the mail server does not answer")

    monkeypatch.setattr(housekeeping, "deliver_due", deliver_due)
    monkeypatch.setattr(housekeeping, "prune_batch", lambda now, limit: prunes.append(now) or 0)
    add_check(make_server(), greeter.port, due=None, interval_seconds=1)
    with running(ctx):
        time.sleep(4.5)
    assert len(deliveries) >= 2                      # tried again after each failure
    assert len(prunes) >= 2
    # One probe a second throughout, although each delivery took a second.
    assert len(greeter.visits) >= 3
    assert all(later - earlier < 1.3 for earlier, later in pairwise(greeter.visits))


def test_a_prune_that_filled_its_batch_comes_back_soon_for_the_rest(ctx, monkeypatch):
    prunes = []
    monkeypatch.setattr(housekeeping, "deliver_due", lambda now, budget_seconds: 0)
    monkeypatch.setattr(housekeeping, "prune_batch",
                        lambda now, limit: prunes.append(now) or (limit if len(prunes) < 3 else 0))
    ctx.config["RUNNER_PRUNE_SECONDS"] = 60
    stop = threading.Event()
    keeper = Housekeeper(ctx, utcnow, stop)
    keeper.start()
    time.sleep(2.5)
    stop.set()
    keeper.join(timeout=5)
    assert len(prunes) == 3 and PRUNE_BATCH > 0      # two full batches, then the backlog was gone
