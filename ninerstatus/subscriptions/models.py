"""Subscribers, their attempts at the subscribe form, and broadcasts (one per post or update to tell)."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import StoredJSON, enum_column
from ..extensions import db
from ..models import Server
from ..timeutil import UTCDateTime, utcnow

subscriber_servers = Table(
    "subscriber_servers",
    db.metadata,
    Column("subscriber_id", Integer, ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True),
    Column("server_id", Integer, ForeignKey("servers.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class SubscriberStatus(str, enum.Enum):
    """Where a subscriber is: waiting for the confirmation click, confirmed, or gone."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


def new_nonce() -> str:
    """A fresh secret that every signed link of a subscriber carries; a new one voids the old links."""
    return secrets.token_urlsafe(12)


class Subscriber(db.Model):
    """One e-mail address and what it wants to hear about: everything, or only some servers."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept lowercased (see forms.normal_address), so one address is one row.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # A stored value naming no status reads as unsubscribed: such a row is never mailed.
    status: Mapped[SubscriberStatus] = enum_column(SubscriberStatus, SubscriberStatus.PENDING,
                                                   unknown=SubscriberStatus.UNSUBSCRIBED)
    all_servers: Mapped[bool] = mapped_column(default=True)
    nonce: Mapped[str] = mapped_column(String(32), default=new_nonce)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Hand-offs the mail server refused in a row; a delivered mail sets it back to 0.
    bounces: Mapped[int] = mapped_column(default=0)
    last_bounce_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_bounce: Mapped[str] = mapped_column(Text, default="")

    servers: Mapped[list[Server]] = relationship(secondary=subscriber_servers,
                                                 order_by="Server.display_order, Server.code")

    def __repr__(self) -> str:
        return f"<Subscriber {self.email} {self.status.value}>"


class SubscribeAttempt(db.Model):
    """A request of the subscribe form, counted per address and per client network (see accounts/throttle.py)."""

    __tablename__ = "subscribe_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The e-mail address as typed (lowercased), named as the throttle counts it.
    account: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class Broadcast(db.Model):
    """A published post or update to tell subscribers about, expanded into mails in batches.

    The post (and update) are read again when the broadcast starts: one that
    is no longer visible by then (turned back into a draft, deleted) is told
    to no one, and a post scheduled for later waits for its time.
    """

    __tablename__ = "subscriber_broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"), index=True)
    # None: the post itself; else one update of its timeline.
    update_id: Mapped[int | None] = mapped_column(ForeignKey("post_updates.id", ondelete="SET NULL"))
    about_update: Mapped[bool] = mapped_column(default=False)
    # Where the site was reached when it was published: the links in the mails start with it.
    base_url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Filled when it starts: the letter every subscriber gets (see mails.broadcast_letter) and
    # the servers it is about (ids); read without trust.
    letter: Mapped[dict | None] = mapped_column(StoredJSON, nullable=True)
    server_ids: Mapped[list | None] = mapped_column(StoredJSON, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The highest subscriber id already given a mail: the next batch starts after it.
    cursor: Mapped[int] = mapped_column(default=0)
    mails: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Why it ended without mails to everyone (the post went back to draft...), for staff.
    outcome: Mapped[str] = mapped_column(Text, default="")
