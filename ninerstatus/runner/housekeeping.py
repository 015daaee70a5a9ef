"""Work the runner does beside probing: sending queued notifications (subscribers' too), pruning history.

It runs in a thread of its own so that a slow mail server or a long prune
never delays a probe. Each duty has its own cadence; a prune that filled its
batch, or a delivery that used its whole period (a broadcast to many
subscribers), comes back a second later until the backlog is gone.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from flask import Flask

from ..agents.retention import prune_batches
from ..history.retention import prune_batch
from ..notifications.outbox import MIN_ATTEMPT_SECONDS, deliver_due
from ..subscriptions.fanout import expand_due
from .transactions import write_transaction

log = logging.getLogger(__name__)

PRUNE_BATCH = 1000
#: Seconds before the next prune when the last one found a full batch to delete, or the next
#: delivery when the last one ran out of time with messages still due.
BACKLOG_PAUSE = 1.0


class Housekeeper(threading.Thread):
    """Calls ``deliver_due`` and ``prune_batch`` on their cadences until ``stop`` is set.

    ``clock`` is the wall clock the duties are given; ``monotonic`` paces them
    (both injectable, so tests play the cadences without waiting for them).
    """

    def __init__(self, app: Flask, clock: Callable[[], datetime], stop: threading.Event, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name="housekeeping", daemon=True)
        self.app, self.clock, self.stop, self.monotonic = app, clock, stop, monotonic
        self.delivery_every = float(app.config["RUNNER_DELIVERY_SECONDS"])
        self.prune_every = float(app.config["RUNNER_PRUNE_SECONDS"])

    def run(self) -> None:
        now = self.monotonic
        next_delivery = next_prune = now()
        while not self.stop.wait(max(0.0, min(next_delivery, next_prune) - now())):
            with self.app.app_context():
                if now() >= next_delivery:
                    busy = self._safely("notification delivery", self.deliver)
                    next_delivery = now() + (BACKLOG_PAUSE if busy else self.delivery_every)
                if now() >= next_prune:
                    full = self._safely("history pruning", self.prune)
                    next_prune = now() + (BACKLOG_PAUSE if full else self.prune_every)

    def deliver(self) -> bool:
        """Queue the subscriber mails of the next minute, then send what is due now, within one delivery period.

        True when the period ran out while sending: more may be due (a broadcast to many subscribers).
        """
        expand_due(self.clock())
        started = self.monotonic()
        sent = deliver_due(self.clock(), budget_seconds=self.delivery_every)
        return sent > 0 and self.monotonic() - started >= self.delivery_every - MIN_ATTEMPT_SECONDS

    def prune(self) -> bool:
        """Delete one batch of expired history, and of the ids of agents' batches taken long ago; True when there
        may be more."""
        with write_transaction():
            deleted = prune_batch(self.clock(), PRUNE_BATCH)
            if deleted < PRUNE_BATCH:
                deleted += prune_batches(self.clock(), PRUNE_BATCH - deleted)
            return deleted >= PRUNE_BATCH

    @staticmethod
    def _safely(what: str, duty: Callable[[], bool | None]) -> bool:
        try:
            return bool(duty())
        except Exception:
            log.exception("%s failed; trying again later", what)
            return False
