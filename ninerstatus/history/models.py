"""The history tables: raw results for a few days, rollups in tiers for longer.

Raw results are packed, one row per check and hour (see packing.py), and so
are the 5-minute and hourly tallies, a block of buckets to a row (see
blocks.py): a row per result or bucket would cost more in row headers and
index entries than its data. The daily tallies, which the bars read for
every page, are a row per bucket. Each location's own results and daily
tallies are kept beside the check's, in the same shapes. Every table is
keyed by check then time and stored without a separate row id (SQLite
``WITHOUT ROWID``), so the key is the table and costs no extra index. Times
are whole seconds since the Unix epoch (UTC) and latencies whole
microseconds: integers are a few bytes on disk where timestamps and floats
take eight, and bucket arithmetic on them is plain integer arithmetic.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .rollup import Tally


class RawResults(db.Model):
    """One check's probe results of one hour, packed (see packing.py), kept ``HISTORY_RAW_DAYS`` days."""

    __tablename__ = "history_raw"
    __table_args__ = {"sqlite_with_rowid": False}

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True)
    hour_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    results: Mapped[bytes] = mapped_column(LargeBinary)


class TallyBlock(db.Model):
    """One check's tallies of one block of a packed tier (see tiers.Tier.block and blocks.py)."""

    __tablename__ = "history_blocks"
    __table_args__ = {"sqlite_with_rowid": False}

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True)
    # The tier, as its bucket width in seconds: 300 or 3600.
    width: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    block_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    tallies: Mapped[bytes] = mapped_column(LargeBinary)


class TallyColumns:
    """The columns of a rollup row kept a row per bucket: what one bucket's results added up to (see rollup.Tally)."""

    up: Mapped[int] = mapped_column(default=0)
    degraded: Mapped[int] = mapped_column(default=0)
    down: Mapped[int] = mapped_column(default=0)
    unknown: Mapped[int] = mapped_column(default=0)
    maintenance: Mapped[int] = mapped_column(default=0)
    latency_min_us: Mapped[int | None]
    latency_max_us: Mapped[int | None]
    latency_sum_us: Mapped[int] = mapped_column(BigInteger, default=0)
    # histogram.encode() of the response times; its total is the number of them.
    histogram: Mapped[bytes] = mapped_column(LargeBinary, default=b"")

    def tally(self) -> Tally:
        """This row's counts and response times."""
        return Tally(self.up, self.degraded, self.down, self.unknown, self.maintenance, self.latency_min_us,
                     self.latency_max_us, self.latency_sum_us, self.histogram)


class HistoryRollup(TallyColumns, db.Model):
    """What one check's results added up to in one bucket of a tier kept a row per bucket (see rollup.Tally)."""

    __tablename__ = "history_rollups"
    __table_args__ = {"sqlite_with_rowid": False}

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True)
    # The tier, as its bucket width in seconds: 86400 (the daily tier).
    width: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    bucket_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


# Per-location history (see located.py). The location comes last in the key:
# retention walks each check from its oldest row, as for the tables above,
# and a window of one check reads every location's rows in one range. No
# index leads with the location: deleting one (rare; staff revoke an agent
# rather than delete its location) scans these tables once, where an index
# would cost every result written.


class LocationRawResults(db.Model):
    """What one location saw of one check in one hour, packed as ``RawResults`` are, kept ``HISTORY_RAW_DAYS`` days."""

    __tablename__ = "history_location_raw"
    __table_args__ = {"sqlite_with_rowid": False}

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True)
    hour_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)
    results: Mapped[bytes] = mapped_column(LargeBinary)


class LocationDailyTally(TallyColumns, db.Model):
    """What one location's results of one check added up to in one UTC day, kept as long as the daily tier."""

    __tablename__ = "history_location_daily"
    __table_args__ = {"sqlite_with_rowid": False}

    check_id: Mapped[int] = mapped_column(ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True)
    day_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    location_id: Mapped[int] = mapped_column(ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True,
                                             autoincrement=False)


class HistoryRevision(db.Model):
    """A number that changes whenever the bars of a day already over may add up differently (see revision.py).

    One row (``id`` 1). A missing row reads as revision 0 and the next change writes it again.
    """

    __tablename__ = "history_revision"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[int] = mapped_column(BigInteger, default=0)
