"""What the runner writes besides results: its heartbeat and the state changes it confirmed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
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
    # How late it started probes in the window before its latest heartbeat (see lateness.py).
    lag_window_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    probes: Mapped[int] = mapped_column(default=0)
    late_probes: Mapped[int] = mapped_column(default=0)
    late_slow_probes: Mapped[int] = mapped_column(default=0)
    lag_p99_seconds: Mapped[float | None] = mapped_column(Float)
    lag_max_seconds: Mapped[float | None] = mapped_column(Float)


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
