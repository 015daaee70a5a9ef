"""The outbox channel of subscribers' mails: what a stored message is, who it goes to, and bounces.

A stored message carries either a whole letter (a confirmation, a "manage
your subscription" note) or a broadcast's id and a subscriber's id; the
latter is written out for its subscriber when it is sent, so an address that
left, or was removed, after the broadcast started gets nothing. A refusal at
hand-off (SMTP 5xx) counts against the address; after
``SUBSCRIBER_MAX_BOUNCES`` in a row it is no longer mailed, and a delivered
mail forgets the count.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db
from ..notifications.channels import Channel, Refused, register_channel
from ..notifications.outbox import MAX_ERROR_LENGTH, enqueue
from ..notifications.smtp import hand_off
from ..timeutil import utcnow
from .mails import BROADCAST_FIELDS, LETTER_FIELDS, letter_problem, message, personal_mail
from .models import Broadcast, Subscriber, SubscriberStatus

log = logging.getLogger(__name__)

CHANNEL = "subscriber_mail"
#: The receiver's key in a stored message: the subscriber's address.
TO = "subscriber"


def init_delivery(app: Flask) -> None:
    """Let ``app``'s outbox send subscribers' mails."""
    register_channel(app, Channel(CHANNEL, send, problem=problem, prepare=prepare, settled=settled))


def enqueue_letter(address: str, letter: Mapping[str, str]) -> None:
    """Queue a whole letter to one address; stored when the caller commits."""
    enqueue(CHANNEL, {TO: address, "letter": dict(letter)})


def broadcast_payload(address: str, broadcast_id: int, subscriber_id: int) -> dict[str, Any]:
    """The stored message of one subscriber's copy of a broadcast (written out when sent)."""
    return {TO: address, "letter": {"broadcast": broadcast_id, "subscriber": subscriber_id}}


def _is_copy(letter: Mapping[str, Any]) -> bool:
    return "broadcast" in letter


def problem(payload: Mapping[str, Any]) -> str | None:
    """Why a stored subscriber mail cannot be sent, in words for staff; None when it can."""
    letter = payload.get("letter")
    if isinstance(letter, Mapping) and _is_copy(letter):
        ids = (letter.get("broadcast"), letter.get("subscriber"))
        if not all(isinstance(value, int) and not isinstance(value, bool) for value in ids):
            return "its broadcast or subscriber is not a number"
        return None
    return letter_problem(letter, LETTER_FIELDS)


def mailable(subscriber: Subscriber | None, max_bounces: int) -> bool:
    """Whether broadcasts still go to ``subscriber``: confirmed, and not refused too often."""
    return (subscriber is not None and subscriber.status is SubscriberStatus.CONFIRMED
            and subscriber.bounces < max_bounces)


def prepare(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """The mail to send for a stored message; None when its subscriber is no longer to be mailed."""
    letter, delivery = payload["letter"], payload["delivery"]
    if not _is_copy(letter):
        return {"to": payload[TO], **{name: letter[name] for name in LETTER_FIELDS}, "delivery": delivery}
    subscriber = db.session.get(Subscriber, letter["subscriber"])
    if not mailable(subscriber, int(settings["SUBSCRIBER_MAX_BOUNCES"])) or subscriber.email != payload[TO]:
        return None
    broadcast = db.session.get(Broadcast, letter["broadcast"])
    problem_ = "it is gone" if broadcast is None else letter_problem(broadcast.letter, BROADCAST_FIELDS)
    if problem_ is not None:
        log.warning("not sending broadcast %s to subscriber %s: %s", letter["broadcast"], subscriber.id, problem_)
        return None
    return {**personal_mail(broadcast.letter, subscriber, broadcast.base_url), "delivery": delivery}


def send(mail: Mapping[str, Any], settings: Mapping[str, Any], timeout: float) -> None:
    """Hand one prepared mail to the mail server."""
    hand_off(message(mail, settings["NOTIFY_EMAIL_FROM"], mail["delivery"]), settings, timeout)


def settled(payload: Mapping[str, Any], failure: Exception | None) -> None:
    """Count a refusal against the address, or forget its refusals once a mail got through."""
    if failure is not None and not isinstance(failure, Refused):
        return
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == payload[TO]))
    if subscriber is None:
        return
    if failure is None:
        # Below the limit only: a copy skipped for an address that bounces too often "succeeds" unsent.
        if 0 < subscriber.bounces < int(current_app.config["SUBSCRIBER_MAX_BOUNCES"]):
            subscriber.bounces = 0
        return
    subscriber.bounces += 1
    subscriber.last_bounce_at = utcnow()
    subscriber.last_bounce = str(failure)[:MAX_ERROR_LENGTH]
