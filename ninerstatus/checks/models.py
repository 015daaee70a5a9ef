"""The ``checks`` table: one probe of one service of a server, and its latest result."""
from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import BoundedFloat, BoundedInteger, StoredJSON, enum_column
from ..extensions import db
from ..models import Server, Visibility
from ..probing import Family, ProbeResult, Status, Target, TlsMode, TlsPolicy
from ..timeutil import UTCDateTime, utcnow
from .secrets import open_settings, readable_settings, seal_settings, site_cipher


MAX_INT32 = 2**31 - 1


def check_title(label: str, type_name: str, port: int) -> str:
    """The name staff gave a check, or its type and port."""
    return label or f"{type_name.upper()} {port}"


def stored_result(last_result: dict[str, Any] | None, last_checked_at: datetime | None) -> ProbeResult | None:
    """A check's latest result from its stored form, or None when it has not run yet.

    A stored result that cannot be read back (written by hand, or cut
    short) is an UNKNOWN result that says so, never an error.
    """
    if not last_result:
        return None
    try:
        return ProbeResult.from_dict(last_result)
    except Exception as error:  # whatever the stored data holds: missing keys, wrong types, bad values
        return ProbeResult.unknown(f"the stored result cannot be read ({type(error).__name__})",
                                   checked_at=last_checked_at or utcnow())


class Check(db.Model):
    """A check of one service (SMTP on 587, IMAP on 993...) of a server.

    The check type (a plugin's ``CheckType``) is referred to by name, so a
    check whose plugin is disabled keeps its settings and simply reports
    UNKNOWN until the plugin is back.
    """

    __tablename__ = "checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id", ondelete="CASCADE"), index=True)
    type_name: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(80), default="")
    host: Mapped[str] = mapped_column(String(253))
    port: Mapped[int]
    # A mode no member names is kept as it was stored (an UnknownMember): the runner reports
    # such a check and never probes it with a guessed mode.
    tls_mode: Mapped[TlsMode] = enum_column(TlsMode, TlsMode.NONE, unknown=None)
    family: Mapped[Family] = enum_column(Family, Family.ANY, unknown=None)
    tls_name: Mapped[str | None] = mapped_column(String(253))
    tls_verify: Mapped[bool] = mapped_column(default=True)
    ca_file: Mapped[str | None] = mapped_column(String(500))
    warn_days: Mapped[int] = mapped_column(default=21)
    crit_days: Mapped[int] = mapped_column(default=7)
    # The check type's own settings, as parse_settings returned them, secrets encrypted
    # (checks/secrets.py; read them with probe_settings). See checks/validity.py for what the
    # runner makes of anything else.
    settings: Mapped[dict[str, Any]] = mapped_column(StoredJSON, default=dict)
    # Read within what PostgreSQL's integer holds (SQLite holds more), and a timeout within a
    # day (infinite, NaN or negative ones read as 0, which the runner refuses to probe with).
    interval_seconds: Mapped[int] = mapped_column(BoundedInteger(-MAX_INT32 - 1, MAX_INT32), default=60)
    timeout_seconds: Mapped[float] = mapped_column(BoundedFloat(0.0, 86400.0), default=10.0)
    visibility: Mapped[Visibility] = enum_column(Visibility, Visibility.PUBLIC, unknown=Visibility.INTERNAL)
    enabled: Mapped[bool] = mapped_column(default=True)
    display_order: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # The latest result, kept beside the check so pages read one row per check.
    last_result: Mapped[dict[str, Any] | None] = mapped_column(StoredJSON)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Flap damping: the confirmed state changes only after this many results in a row.
    failures_before_down: Mapped[int] = mapped_column(default=2)
    successes_before_up: Mapped[int] = mapped_column(default=1)
    consecutive_failures: Mapped[int] = mapped_column(default=0)
    consecutive_successes: Mapped[int] = mapped_column(default=0)
    # Locations that must see the check failing for it to be down; None for a majority of them
    # (see agents/quorum.py). With one location, as without agents, either way that one decides.
    quorum: Mapped[int | None]
    # The confirmed state (a Status name in lower case) and since when it holds.
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime())

    # Scheduling: when the check is next due, and which runner holds it until when.
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # True when the last probe timed out or ran long: the runner probes the check in its slow lane.
    slow_lane: Mapped[bool] = mapped_column(default=False)

    server: Mapped[Server] = relationship(back_populates="checks")

    @property
    def title(self) -> str:
        """The name staff gave the check, or its type and port."""
        return check_title(self.label, self.type_name, self.port)

    @property
    def is_public(self) -> bool:
        """True when visitors may see this check's widget."""
        return self.visibility is Visibility.PUBLIC and self.server.is_public

    def target(self) -> Target:
        """The probe target described by this check (validated again on the way out)."""
        return Target(self.host, self.port, self.family, self.tls_mode, self.tls_name)

    def tls_policy(self) -> TlsPolicy:
        """How this check verifies TLS."""
        return TlsPolicy(verify=self.tls_verify, ca_file=self.ca_file or None, warn_days=self.warn_days,
                         crit_days=self.crit_days)

    def store_settings(self, settings: Mapping[str, Any], secret_names: Collection[str]) -> None:
        """Keep ``settings`` (in clear), the secrets among them encrypted under the site's key."""
        self.settings = seal_settings(settings, secret_names, site_cipher())

    def probe_settings(self) -> dict[str, Any]:
        """The settings in clear, as the probe gets them; ``UnreadableSecret`` when a secret cannot be decrypted.

        Only for a check whose settings are named values (see ``check_problem``).
        """
        return open_settings(self.settings or {}, site_cipher())

    def readable_settings(self) -> tuple[dict[str, Any], tuple[str, ...]]:
        """The settings in clear as far as they can be read, and the names of the secrets that cannot."""
        return readable_settings(self.settings or {}, site_cipher())

    @property
    def result(self) -> ProbeResult | None:
        """The latest result, or None when the check has not run yet (see ``stored_result``)."""
        return stored_result(self.last_result, self.last_checked_at)

    def record(self, result: ProbeResult) -> None:
        """Keep ``result`` as the latest one."""
        self.last_result = result.to_dict()
        self.last_checked_at = result.checked_at

    @property
    def status(self) -> Status:
        """The latest status; UNKNOWN before the first result."""
        result = self.result
        return result.status if result else Status.UNKNOWN

    def __repr__(self) -> str:
        return f"<Check {self.type_name} {self.host}:{self.port}>"
