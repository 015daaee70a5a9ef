"""The outbox: retries with backoff, giving up, per-attempt timeouts, the time budget, one sender per message."""
from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.notifications.models import Notification
from ninerstatus.notifications.outbox import deliver_due, retry_delay
from ninerstatus.timeutil import utcnow

from .conftest import report_change
from .receivers import WebhookReceiver

#: A budget that a pass never needs in full here: far beyond the attempts' timeouts.
BUDGET_SECONDS = 30


@pytest.fixture
def start_receiver():
    """``start_receiver(answers, delay)`` starts a webhook receiver, closed after the test."""
    receivers: list[WebhookReceiver] = []

    def start(answers: tuple[int, ...] = (), delay: float = 0.0, **options) -> WebhookReceiver:
        receivers.append(WebhookReceiver(answers, delay, **options))
        return receivers[-1]

    yield start
    for receiver in receivers:
        receiver.close()


def webhooks_only(app, *receivers: WebhookReceiver, **settings) -> None:
    """Send webhooks to ``receivers`` and no e-mail."""
    app.config.update(NOTIFY_EMAIL_TO=[], NOTIFY_WEBHOOK_URLS=[r.url for r in receivers], **settings)


def the_rows(app) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def deliver_at(app, now, budget: float = 10.0, **options) -> int:
    with app.app_context():
        return deliver_due(now, budget_seconds=budget, **options)


class Bounds(random.Random):
    """A random source that always picks the lowest value, or always the highest."""

    def __init__(self, highest: bool) -> None:
        super().__init__()
        self.highest = highest

    def uniform(self, a: float, b: float) -> float:
        return b if self.highest else a


def test_retry_delay_doubles_from_the_base_up_to_the_maximum():
    highest = [retry_delay(n, 30, 3600, Bounds(True)).total_seconds() for n in range(1, 10)]
    assert highest == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_retry_delay_jitter_never_goes_below_half_the_nominal_wait():
    lowest = [retry_delay(n, 30, 3600, Bounds(False)).total_seconds() for n in range(1, 5)]
    assert lowest == [15, 30, 60, 120]
    spread = {retry_delay(3, 30, 3600).total_seconds() for _ in range(50)}
    assert len(spread) > 1 and all(60 <= s <= 120 for s in spread)


def test_a_receiver_that_fails_twice_is_retried_with_backoff_until_it_takes_the_message(app, start_receiver):
    receiver = start_receiver(answers=(500, 503))
    webhooks_only(app, receiver, NOTIFY_RETRY_BASE_SECONDS=30)
    report_change(app)
    now = utcnow()

    assert deliver_at(app, now) == 0
    [row] = the_rows(app)
    assert row.attempts == 1 and "answered 500" in row.last_error
    first_wait = (row.next_attempt_at - now).total_seconds()
    assert 15 <= first_wait <= 31

    assert deliver_at(app, now + timedelta(seconds=14)) == 0
    assert len(receiver.requests) == 1, "retried before its time"

    later = now + timedelta(seconds=first_wait + 1)
    assert deliver_at(app, later) == 0
    [row] = the_rows(app)
    assert row.attempts == 2 and "answered 503" in row.last_error
    assert 30 <= (row.next_attempt_at - later).total_seconds() <= 61

    assert deliver_at(app, row.next_attempt_at + timedelta(seconds=1)) == 1
    [row] = the_rows(app)
    assert row.attempts == 3 and row.sent_at is not None
    assert len(receiver.requests) == 3
    assert len({hook.headers["X-Ninerstatus-Delivery"] for hook in receiver.requests}) == 1


def test_a_message_is_given_up_after_the_last_attempt(app, start_receiver):
    receiver = start_receiver(answers=(500,) * 10)
    webhooks_only(app, receiver, NOTIFY_MAX_ATTEMPTS=2)
    report_change(app)
    now = utcnow()
    deliver_at(app, now)
    deliver_at(app, now + timedelta(hours=1))
    assert deliver_at(app, now + timedelta(days=30)) == 0
    [row] = the_rows(app)
    assert (row.attempts, row.sent_at, len(receiver.requests)) == (2, None, 2)


def test_each_attempt_ends_at_its_timeout(app, start_receiver):
    # Receivers that answer only after the budget: had an attempt waited for one, no other would start.
    hanging = [start_receiver(delay=BUDGET_SECONDS), start_receiver(delay=BUDGET_SECONDS),
               start_receiver(delay=BUDGET_SECONDS)]
    webhooks_only(app, *hanging, NOTIFY_TIMEOUT_SECONDS=0.5)
    report_change(app)
    assert deliver_at(app, utcnow(), budget=BUDGET_SECONDS) == 0
    assert [row.last_error for row in the_rows(app)] == ["DeliveryError: no answer within 0.5 s"] * 3


def test_a_pass_starts_no_attempt_its_budget_has_no_room_for(app, start_receiver):
    seconds = [0.0]

    def takes_half_a_second() -> None:
        seconds[0] += 0.5

    receivers = [start_receiver(on_request=takes_half_a_second) for _ in range(3)]
    webhooks_only(app, *receivers, NOTIFY_TIMEOUT_SECONDS=0.5)
    report_change(app)
    assert deliver_at(app, utcnow(), budget=1.2, monotonic=lambda: seconds[0]) == 2
    assert [row.attempts for row in the_rows(app)] == [1, 1, 0], "0.2 s left: no room for a 0.5 s attempt"


def test_a_budget_shorter_than_the_timeout_shortens_the_attempt(app, start_receiver):
    webhooks_only(app, start_receiver(delay=BUDGET_SECONDS), NOTIFY_TIMEOUT_SECONDS=BUDGET_SECONDS)
    report_change(app)
    # Measured on a clock that stands still, the attempt gets exactly the budget, however slow the machine.
    assert deliver_at(app, utcnow(), budget=1.5, monotonic=lambda: 0.0) == 0
    [row] = the_rows(app)
    assert row.attempts == 1 and row.last_error == "DeliveryError: no answer within 1.5 s"


def test_no_attempt_starts_with_less_than_a_second_left(app, start_receiver):
    receiver = start_receiver()
    webhooks_only(app, receiver, NOTIFY_TIMEOUT_SECONDS=10)
    report_change(app)
    assert deliver_at(app, utcnow(), budget=0.9) == 0
    assert receiver.requests == [] and the_rows(app)[0].attempts == 0


def test_messages_not_due_yet_are_left_alone(app, start_receiver):
    receiver = start_receiver()
    webhooks_only(app, receiver)
    report_change(app)
    assert deliver_at(app, utcnow() - timedelta(minutes=1)) == 0
    assert receiver.requests == [] and the_rows(app)[0].attempts == 0


def test_two_runners_delivering_at_once_send_each_message_once(app, start_receiver):
    receiver = start_receiver(delay=0.3)
    webhooks_only(app, receiver)
    report_change(app)
    now, counts = utcnow(), []

    def runner() -> None:
        counts.append(deliver_at(app, now, budget=3))

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == [0, 1]
    assert len(receiver.requests) == 1
