"""Signed links for subscribers: confirm (expiring), manage and unsubscribe.

Each link is signed with the site's key and a salt naming its purpose, so a
confirm link cannot be used to unsubscribe and the other way round. It
carries the subscriber's id and nonce: a nonce changed (when an address that
had left subscribes again) voids every older link. Confirm links expire after
``SUBSCRIBER_CONFIRM_HOURS``; manage and unsubscribe links are in every mail
and must keep working as long as the mails are read, so they do not.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer

from ..extensions import db
from .models import Subscriber

CONFIRM, MANAGE, UNSUBSCRIBE = "confirm", "manage", "unsubscribe"
PURPOSES = (CONFIRM, MANAGE, UNSUBSCRIBE)


class _IssuedAt(TimestampSigner):
    """A timestamp signer that can date its signature (the moment a link was made, for tests of expiry)."""

    def __init__(self, *args: Any, issued_at: datetime | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issued_at = issued_at

    def get_timestamp(self) -> int:
        return int(self.issued_at.timestamp()) if self.issued_at is not None else super().get_timestamp()


def _serializer(purpose: str, issued_at: datetime | None = None) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise ValueError(f"no link is signed for {purpose!r}")
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"ninerstatus.subscriptions.{purpose}",
                                  signer=_IssuedAt, signer_kwargs={"issued_at": issued_at})


def make_token(purpose: str, subscriber: Subscriber, issued_at: datetime | None = None) -> str:
    """The signed token of ``subscriber``'s link for ``purpose``, made now or at ``issued_at``."""
    return _serializer(purpose, issued_at).dumps([subscriber.id, subscriber.nonce])


def read_token(purpose: str, token: str) -> Subscriber | None:
    """The subscriber a link for ``purpose`` is for; None when it is forged, expired, or void."""
    max_age = current_app.config["SUBSCRIBER_CONFIRM_HOURS"] * 3600 if purpose == CONFIRM else None
    try:
        subscriber_id, nonce = _serializer(purpose).loads(token, max_age=max_age)
    except (BadSignature, ValueError, TypeError):
        # Expired links raise SignatureExpired, a BadSignature; a signed value of another shape, ValueError.
        return None
    if not isinstance(subscriber_id, int) or not isinstance(nonce, str):
        return None
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None or subscriber.nonce != nonce:
        return None
    return subscriber


#: Where each link leads, below the site's address (the views' routes are these plus ``<token>``).
PATHS = {CONFIRM: "/subscribe/confirm/", MANAGE: "/subscribe/manage/", UNSUBSCRIBE: "/unsubscribe/"}


def link(base_url: str, purpose: str, subscriber: Subscriber) -> str:
    """The full address of ``subscriber``'s link for ``purpose`` on the site at ``base_url``."""
    return f"{base_url.rstrip('/')}{PATHS[purpose]}{make_token(purpose, subscriber)}"
