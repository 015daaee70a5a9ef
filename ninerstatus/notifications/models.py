"""The notification outbox: each message waits here until a notifier has delivered it."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import StoredJSON
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Notification(db.Model):
    """One message for one channel (e-mail, webhook...), retried with backoff until sent."""

    __tablename__ = "notifications"

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
