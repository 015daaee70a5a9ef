"""What the runner writes besides results: its heartbeat and the state changes it confirmed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class RunnerHeartbeat(db.Model):
    """One running (or lately running) probe runner process."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatusEvent(db.Model):
    """A confirmed change of a check's or a server's state (after retries and flap damping)."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int | None] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), index=True)
    server_id: Mapped[int | None] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    previous: Mapped[str | None] = mapped_column(String(16))
    current: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(String(300), default="")
