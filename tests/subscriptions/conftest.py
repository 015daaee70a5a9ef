"""Fixtures for the subscription tests: a mailbox on 127.0.0.1, an app mailing through it, and helpers.

The mailbox is aiosmtpd without TLS (the staff notifier's tests cover
STARTTLS on the same hand-off); it keeps every message, and refuses with a
5xx the addresses listed in ``refused``.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Server
from ninerstatus.notifications.models import Notification
from ninerstatus.notifications.outbox import deliver_due
from ninerstatus.subscriptions.delivery import CHANNEL
from ninerstatus.subscriptions.fanout import HORIZON, expand_due
from ninerstatus.subscriptions.models import Subscriber, SubscriberStatus

from ..admin.accounts import csrf_token_in
from ..admin.conftest import auth, staff  # noqa: F401  (fixtures)
from ..notifications.receivers import StaffMailbox, _Keeper

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
LINK = re.compile(r"https?://[^\s\"<>]+")


class _Refusing(_Keeper):
    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str, options: list) -> str:
        if address in self.box.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class Mailbox(StaffMailbox):
    """The staff mailbox of the notifier tests, refusing the addresses in ``refused``."""

    def __init__(self, **options: Any) -> None:
        self.refused: set[str] = set()
        super().__init__(**options)

    def factory(self) -> SMTP:
        return SMTP(_Refusing(self), **self.SMTP_kwargs)

    def to(self, address: str) -> list[EmailMessage]:
        """The messages received for ``address``, oldest first."""
        return [delivered.message for delivered in self.messages if address in delivered.rcpt_tos]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A mail server on 127.0.0.1 without STARTTLS."""
    box = Mailbox()
    yield box
    box.close()


@pytest.fixture
def app_config(mailbox) -> dict:
    """Mail through ``mailbox``, in the clear (it is on loopback), with a mailbox for mailto unsubscribes."""
    return {"NOTIFY_EMAIL_FROM": "status@example.net", "NOTIFY_SMTP_HOST": "127.0.0.1",
            "NOTIFY_SMTP_PORT": mailbox.port, "NOTIFY_SMTP_STARTTLS": False, "NOTIFY_TIMEOUT_SECONDS": 5,
            "SUBSCRIBER_UNSUBSCRIBE_MAILBOX": "unsubscribe@example.net"}


def subscribe(client, email: str, **fields: Any):
    """Fill in and send the subscribe form the way a browser does (token from the page)."""
    token = csrf_token_in(client.get("/subscribe").get_data(as_text=True))
    return client.post("/subscribe", data={"email": email, "scope": "all", "csrf_token": token, **fields})


def deliver(app, now: datetime | None = None) -> int:
    """What the runner's drain does over a minute: queue a minute of broadcasts at ``now``, then send it all.

    Returns how many were sent.
    """
    now = now or datetime.now(timezone.utc)
    with app.app_context():
        expand_due(now)
        return deliver_due(now + HORIZON, budget_seconds=30)


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a mail."""
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message: EmailMessage) -> str:
    """The HTML part of a mail."""
    return message.get_body(preferencelist=("html",)).get_content()


def links_in(message: EmailMessage, part: str) -> list[str]:
    """Links of the plain text containing ``part`` (e.g. "/subscribe/confirm/")."""
    return [url for url in LINK.findall(text_of(message)) if part in url]


def unsubscribe_targets(message: EmailMessage) -> list[str]:
    """The targets of the List-Unsubscribe header, without their angle brackets (a long header is folded)."""
    return [target.strip().strip("<>") for target in str(message["List-Unsubscribe"]).split(",")]


def path_of(url: str) -> str:
    """The path of a link from a mail, for the test client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def confirmed_subscriber(app, email: str, servers: tuple[str, ...] = (), **fields: Any) -> int:
    """A confirmed subscriber, for all servers or only those whose codes are in ``servers``; returns its id."""
    with app.app_context():
        servers = db.session.scalars(select(Server).where(Server.code.in_(servers))).all() if servers else ()
        subscriber = Subscriber(**{"email": email, "status": SubscriberStatus.CONFIRMED,
                                   "all_servers": not servers, "confirmed_at": T0, **fields})
        subscriber.servers = list(servers)
        db.session.add(subscriber)
        db.session.commit()
        return subscriber.id


def queued(app) -> list[Notification]:
    """Every subscriber mail in the outbox, in the order they fall due."""
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.channel == CHANNEL)
                                  .order_by(Notification.next_attempt_at, Notification.id)).all()
        db.session.expunge_all()
        return rows


def later(minutes: float) -> datetime:
    """``minutes`` after T0."""
    return T0 + timedelta(minutes=minutes)
