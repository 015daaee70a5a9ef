"""The tables of probe locations: the locations, which checks each probes and what it saw, and batches received."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import BoundedFloat, StoredJSON
from ..extensions import db
from ..timeutil import UTCDateTime, utcnow


class Location(db.Model):
    """A vantage point: the site's own runner, or an agent on another network.

    An agent proves which location it is with a token shown to staff once;
    only a hash of its secret part is kept (``token_hash``), under a public
    ``token_id`` that finds the row.
    """

    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    city: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    # The network or ISP the location sees the world through ("MTN", "Hetzner").
    network: Mapped[str] = mapped_column(String(80), default="")
    # True for the one location that is the site's own runner (it has no token).
    is_site: Mapped[bool] = mapped_column(default=False)
    token_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the agent told at its latest contact.
    last_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_version: Mapped[str | None] = mapped_column(String(40))
    # The site's clock minus the agent's, in seconds, measured at its latest contact.
    clock_offset_seconds: Mapped[float | None] = mapped_column(BoundedFloat(-1e9, 1e9))
    # Results waiting in the agent's spool, and how many it had to drop because the spool was full.
    backlog: Mapped[int] = mapped_column(default=0)
    dropped: Mapped[int] = mapped_column(default=0)

    assignments: Mapped[list[CheckLocation]] = relationship(back_populates="location", cascade="all, delete-orphan",
                                                            passive_deletes=True)

    @property
    def label(self) -> str:
        """The location as visitors read it: "Lusaka (MTN)", or its name alone."""
        return f"{self.name} ({self.network})" if self.network else self.name

    @property
    def active(self) -> bool:
        """True for the site's runner, and for an agent location whose token works."""
        return self.is_site or (self.token_hash is not None and self.revoked_at is None)


class CheckLocation(db.Model):
    """A check probed from a location, and that location's own confirmed state of it.

    The fields mirror the single-runner ones on ``checks`` (latest result,
    flap-damping counters, confirmed state); the check's own fields hold the
    combined state of all its locations (see quorum.py).
    """

    __tablename__ = "check_locations"

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True,
                                             index=True)
    last_result: Mapped[dict[str, Any] | None] = mapped_column(StoredJSON)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    consecutive_successes: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    location: Mapped[Location] = relationship(back_populates="assignments")


class AgentBatch(db.Model):
    """A batch of results the site accepted from a location, kept so that a batch sent again is taken once."""

    __tablename__ = "agent_batches"

    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    results: Mapped[int] = mapped_column(default=0)
