"""The notification outbox: each message waits here until a notifier has delivered it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import StoredJSON
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Notification(db.Model):
    """One message for one channel (e-mail, webhook...), retried with backoff until sent."""

    __tablename__ = "notifications"
    # The messages still to send, by when they are due: the outbox's claim reads only these, so
    # the thousands a broadcast to subscribers leaves behind as sent never slow it down.
    __table_args__ = (Index("ix_notifications_unsent_due", "next_attempt_at",
                            sqlite_where=text("sent_at IS NULL"), postgresql_where=text("sent_at IS NULL")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("status_events.id", ondelete="SET NULL"))
    # Read without trust: see outbox.payload_problem.
    payload: Mapped[dict[str, Any]] = mapped_column(StoredJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(Text, default="")
