"""The outbox: notifications wait in the database until ``deliver_due`` sends them.

Notifier hooks run on the runner's probing path, so they only *queue* a
message (one INSERT in the runner's own transaction). Delivery happens later,
off that path, in ``deliver_due``: within a time budget it sends the messages
that are due, each attempt with its own timeout, marks them sent, or records
the error and tries again later with exponential backoff and jitter, until
``NOTIFY_MAX_ATTEMPTS`` attempts have failed.

Several runners may share one PostgreSQL database: a message is claimed (its
next attempt moved past the attempt's end) before it is sent, so two runners
never send it at the same time, and a runner that dies mid-send only delays it.

A stored message is untrusted like every row: one whose payload cannot make a
message (see ``payload_problem``) is given up at once, with the reason, and
the others are delivered as usual.
"""
from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from ..extensions import db
from ..probing import ProbeResult
from ..site_settings import effective_settings
from ..timeutil import utcnow
from .channels import Channel, DeliveryError, Refused, channel_named
from .messages import change_problem, status_change, worth_telling
from .models import Notification

log = logging.getLogger(__name__)

#: An attempt is not started with less time than this left (or the whole timeout, if shorter).
MIN_ATTEMPT_SECONDS = 1.0
#: How long past its timeout a claimed message stays out of other runners' reach.
CLAIM_GRACE = timedelta(seconds=60)
#: Errors are stored this long at most.
MAX_ERROR_LENGTH = 1000
#: The keys of queued messages beside their receiver's, whose key the channel chooses (see ``enqueue_change``):
#: what is told (a status change, or a letter of a channel that tells other things) and the delivery id.
ENVELOPE_KEYS = ("change", "letter", "delivery")


def enqueue(channel: str, payload: Mapping[str, Any], due_at: datetime | None = None) -> Notification:
    """Queue a message for ``channel``, due at once or at ``due_at``; stored when the caller's transaction commits.

    Each message gets a delivery id that stays the same across retries, so a
    receiver can ignore a repeat whose first answer was lost on the way back.
    """
    now = utcnow()
    row = Notification(channel=channel, payload={**payload, "delivery": str(uuid.uuid4())},
                       created_at=now, next_attempt_at=due_at or now, attempts=0, last_error="")
    db.session.add(row)
    return row


def enqueue_change(channel: str, key: str, targets: list[str], check: Any, previous: str | None, current: str,
                   result: ProbeResult) -> None:
    """Queue one message about a state change per target (address, URL...), stored under ``key``.

    One message per target, so each receiver is retried on its own. Changes
    that are not news (see ``worth_telling``) queue nothing.
    """
    if not targets or not worth_telling(previous, current):
        return
    change = status_change(check, previous, current, result)
    for target in targets:
        enqueue(channel, {key: target, "change": change})


def receiver(payload: Any) -> str | None:
    """Who a stored message is for (an address, a URL...), or None when its payload does not say."""
    if not isinstance(payload, Mapping):
        return None
    found = [value for key, value in payload.items() if key not in ENVELOPE_KEYS]
    return found[0] if len(found) == 1 and isinstance(found[0], str) and found[0] else None


def payload_problem(payload: Any, channel: Channel | None = None) -> str | None:
    """Why a stored message's payload cannot be sent, in words for staff; None when it can.

    What it tells is a status change, unless ``channel`` checks its own payloads.
    """
    if not isinstance(payload, Mapping):
        return "its payload is not a JSON object"
    if receiver(payload) is None:
        return "it names no one receiver"
    if not isinstance(payload.get("delivery"), str):
        return "it has no delivery id"
    if channel is not None and channel.problem is not None:
        return channel.problem(payload)
    return change_problem(payload.get("change"))


def retry_delay(attempts: int, base: float, maximum: float, rng: random.Random | None = None) -> timedelta:
    """The wait after the ``attempts``-th failure: doubling from ``base`` up to ``maximum``, with jitter.

    Half of the delay is fixed and half random ("equal jitter"): retries never
    come sooner than half the nominal wait, and messages that failed together
    (a receiver was down) do not all come back at the same moment.
    """
    nominal = min(maximum, base * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=nominal / 2 + (rng or random).uniform(0, nominal / 2))


def run_within(seconds: float, send: Callable[..., None], *args: Any) -> None:
    """Run ``send(*args)`` and wait for it at most ``seconds``; raise what it raised, or DeliveryError.

    Socket timeouts bound each read, not the whole conversation: a receiver
    that answers one byte at a time would hold the caller far longer. The
    attempt runs in a daemon thread instead, which is left to its own socket
    timeouts when it overruns.
    """
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            send(*args)
        except BaseException as error:  # handed over to the waiting thread
            outcome.append(error)
        else:
            outcome.append(None)

    worker = threading.Thread(target=attempt, name="ninerstatus-notify", daemon=True)
    worker.start()
    worker.join(seconds)
    if not outcome:
        raise DeliveryError(f"no answer within {seconds:.1f} s")
    if outcome[0] is not None:
        raise outcome[0]


def _claim(now: datetime, hold_until: datetime, max_attempts: int) -> Notification | None:
    """The next due message, claimed until ``hold_until``; None when nothing is due."""
    while True:
        row = db.session.scalar(
            select(Notification)
            .where(Notification.sent_at.is_(None), Notification.attempts < max_attempts,
                   Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id)
            .limit(1))
        if row is None:
            db.session.rollback()
            return None
        # Compare-and-set: only one runner moves this message's next attempt past ``now``. Asked as
        # "still due", not "still the time read": SQLite compares the stored text, and a time written
        # by hand (no microseconds, say) would never equal the one read back, and this would spin.
        claimed = db.session.execute(
            update(Notification)
            .where(Notification.id == row.id, Notification.next_attempt_at <= now,
                   Notification.sent_at.is_(None))
            .values(next_attempt_at=hold_until)
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed:
            return row


def deliver_due(now: datetime | None = None, budget_seconds: float = 5.0, *,
                rng: random.Random | None = None, monotonic: Callable[[], float] = time.monotonic) -> int:
    """Send the messages due at ``now`` for at most about ``budget_seconds``; return how many were sent.

    Call it in an application context with no transaction of your own open:
    it commits after each message. Messages left when the budget runs out
    stay due for the next call. ``monotonic`` measures the budget (tests pass their own).
    """
    app = current_app._get_current_object()
    settings = effective_settings(app)
    timeout = float(settings["NOTIFY_TIMEOUT_SECONDS"])
    max_attempts = int(settings["NOTIFY_MAX_ATTEMPTS"])
    started, start_time = monotonic(), now or utcnow()

    def clock() -> datetime:
        return start_time + timedelta(seconds=monotonic() - started)

    sent = 0
    while budget_seconds - (monotonic() - started) >= min(MIN_ATTEMPT_SECONDS, timeout):
        attempt_seconds = min(timeout, budget_seconds - (monotonic() - started))
        row = _claim(clock(), clock() + timedelta(seconds=attempt_seconds) + CLAIM_GRACE, max_attempts)
        if row is None:
            break
        channel = channel_named(app, row.channel)
        problem = payload_problem(row.payload, channel)
        if problem is not None:
            _give_up_unreadable(row, problem, max_attempts)
            continue
        failure: Exception | None = None
        try:
            if channel is None:
                raise DeliveryError(f"no notifier plugin for the {row.channel!r} channel is loaded")
            payload = channel.prepare(row.payload, settings) if channel.prepare else row.payload
            if payload is not None:
                run_within(attempt_seconds, channel.send, payload, settings, attempt_seconds)
        except Exception as error:  # a notifier's failure, whatever it is, must not stop the runner
            failure = error
            _record_failure(row, error, clock(), settings, rng)
        else:
            row.sent_at = clock()
            sent += 1
        row.attempts += 1
        if channel is not None and channel.settled is not None:
            channel.settled(row.payload, failure)
        db.session.commit()
    return sent


def _give_up_unreadable(row: Notification, problem: str, max_attempts: int) -> None:
    """Mark a message whose payload cannot be sent as failed for good: every retry would read the same row."""
    row.last_error = f"the stored message cannot be read: {problem}"[:MAX_ERROR_LENGTH]
    row.attempts = max(row.attempts + 1, max_attempts)
    db.session.commit()
    log.warning("giving up notification %s (%s): %s", row.id, row.channel, row.last_error)


def _record_failure(row: Notification, error: Exception, now: datetime, settings: Mapping[str, Any],
                    rng: random.Random | None) -> None:
    """Keep why the attempt failed and when to try again."""
    row.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
    if isinstance(error, Refused):
        # Refused for good: this attempt is the last (deliver_due counts it after this).
        row.attempts = max(row.attempts, int(settings["NOTIFY_MAX_ATTEMPTS"]) - 1)
    attempts = row.attempts + 1
    row.next_attempt_at = now + retry_delay(attempts, float(settings["NOTIFY_RETRY_BASE_SECONDS"]),
                                            float(settings["NOTIFY_RETRY_MAX_SECONDS"]), rng)
    if attempts >= int(settings["NOTIFY_MAX_ATTEMPTS"]):
        log.warning("giving up notification %s (%s) after %d attempts: %s", row.id, row.channel, attempts,
                    row.last_error)
