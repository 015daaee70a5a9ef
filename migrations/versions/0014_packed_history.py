"""History packed many to a row: raw results by check and hour, 5-minute and hourly tallies by block.

Until now every probe result was a row of history_results and every rollup
bucket a row of history_rollups; a row costs more in headers and index
entries than the few bytes of a result or a tally (four times SQLite's space
on PostgreSQL). Results now live in history_raw, one row per check and hour
(ninerstatus/history/packing.py), and the 5-minute and hourly tallies in
history_blocks, an hour of 5-minute buckets or a day of hourly ones to a row
(ninerstatus/history/blocks.py); daily tallies stay a row per bucket. This
moves every stored result and tally there; a row that no release could read
(a status outside 0 to 3, a negative response time, a spoiled histogram) is
logged and left out.

Downgrading unpacks them into rows again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""
import logging
from itertools import groupby

from alembic import op
import sqlalchemy as sa

from ninerstatus.history import blocks
from ninerstatus.history.packing import CorruptPack, hour_start, pack, unpack
from ninerstatus.history.rollup import Sample, Tally
from ninerstatus.history.tiers import PACKED_TIERS
from ninerstatus.probing import Status

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

#: Rows written per INSERT while moving.
BATCH = 1000

results = sa.table("history_results", sa.column("check_id", sa.Integer()), sa.column("checked_at", sa.BigInteger()),
                   sa.column("status", sa.SmallInteger()), sa.column("latency_us", sa.Integer()),
                   sa.column("error_kind", sa.String(32)), sa.column("in_maintenance", sa.Boolean()))
TALLY_COLUMNS = [sa.column(name, sa.LargeBinary() if name == "histogram" else sa.BigInteger())
                 for name in Tally._fields]
rollups = sa.table("history_rollups", sa.column("check_id", sa.Integer()), sa.column("width", sa.Integer()),
                   sa.column("bucket_start", sa.BigInteger()), *TALLY_COLUMNS)
tally_blocks = sa.table("history_blocks", sa.column("check_id", sa.Integer()), sa.column("width", sa.Integer()),
                        sa.column("block_start", sa.BigInteger()), sa.column("tallies", sa.LargeBinary()))
raw = sa.table("history_raw", sa.column("check_id", sa.Integer()), sa.column("hour_start", sa.BigInteger()),
               sa.column("results", sa.LargeBinary()))


def _create_raw():
    op.create_table(
        "history_raw",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("hour_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("results", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f("fk_history_raw_check_id_checks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("check_id", "hour_start", name=op.f("pk_history_raw")),
        sqlite_with_rowid=False,
    )


def _create_blocks():
    op.create_table(
        "history_blocks",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("block_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tallies", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f("fk_history_blocks_check_id_checks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("check_id", "width", "block_start", name=op.f("pk_history_blocks")),
        sqlite_with_rowid=False,
    )


def _create_results():
    op.create_table(
        "history_results",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("latency_us", sa.Integer(), nullable=True),
        sa.Column("error_kind", sa.String(length=32), nullable=True),
        sa.Column("in_maintenance", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f("fk_history_results_check_id_checks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("check_id", "checked_at", name=op.f("pk_history_results")),
        sqlite_with_rowid=False,
    )


def _samples(conn):
    """Every stored result that makes a valid sample, by check and time; the others are logged and left out."""
    rows = conn.execute(sa.select(results).order_by(results.c.check_id, results.c.checked_at)
                        .execution_options(stream_results=True, yield_per=BATCH))
    for row in rows:
        try:
            sample = Sample(row.check_id, row.checked_at, Status(row.status), row.latency_us, row.error_kind,
                            bool(row.in_maintenance))
            pack([sample])
        except ValueError as error:
            log.warning("history result %s of check %s left out, as no release can read it: %s",
                        row.checked_at, row.check_id, error)
            continue
        yield sample


def _insert_batches(conn, table, rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.execute(sa.insert(table), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(table), batch)


def upgrade():
    _create_raw()
    conn = op.get_bind()
    hours = groupby(_samples(conn), key=lambda sample: (sample.check_id, hour_start(sample.checked_at)))
    _insert_batches(conn, raw, ({"check_id": check_id, "hour_start": start, "results": pack(samples)}
                                for (check_id, start), samples in hours))
    op.drop_table("history_results")
    _create_blocks()
    for tier in PACKED_TIERS:
        found = groupby(_tallies(conn, tier), key=lambda row: (row[0], tier.block_start(row[1])))
        _insert_batches(conn, tally_blocks, (
            {"check_id": check_id, "width": tier.width, "block_start": start,
             "tallies": blocks.pack(tier, start, {bucket: tally for _, bucket, tally in tallies})}
            for (check_id, start), tallies in found))
        conn.execute(sa.delete(rollups).where(rollups.c.width == tier.width))


def _tallies(conn, tier):
    """(check_id, bucket_start, tally) of every stored bucket of ``tier`` that reads; the others are logged."""
    rows = conn.execute(sa.select(rollups).where(rollups.c.width == tier.width)
                        .order_by(rollups.c.check_id, rollups.c.bucket_start)
                        .execution_options(stream_results=True, yield_per=BATCH))
    for row in rows:
        tally = Tally(*(row._mapping[name] for name in Tally._fields))
        start = tier.block_start(row.bucket_start)
        try:
            blocks.unpack(tier, start, blocks.pack(tier, start, {row.bucket_start: tally}))
        except ValueError as error:
            log.warning("%s bucket %s of check %s left out, as no release can read it: %s", tier.name,
                        row.bucket_start, row.check_id, error)
            continue
        yield row.check_id, row.bucket_start, tally


def _unpacked(conn):
    for row in conn.execute(sa.select(raw).order_by(raw.c.check_id, raw.c.hour_start)):
        try:
            samples = unpack(row.check_id, row.hour_start, row.results)
        except CorruptPack as error:
            log.warning("raw results of check %s in the hour from %s left out: %s", row.check_id, row.hour_start,
                        error)
            continue
        yield from ({**sample._asdict(), "status": int(sample.status)} for sample in samples)


def _unpacked_tallies(conn, tier):
    rows = conn.execute(sa.select(tally_blocks.c.check_id, tally_blocks.c.block_start, tally_blocks.c.tallies)
                        .where(tally_blocks.c.width == tier.width))
    for check_id, start, tally in blocks.unpack_rows(tier, rows):
        yield {"check_id": check_id, "width": tier.width, "bucket_start": start, **tally._asdict()}


def downgrade():
    _create_results()
    conn = op.get_bind()
    _insert_batches(conn, results, _unpacked(conn))
    op.drop_table("history_raw")
    for tier in PACKED_TIERS:
        _insert_batches(conn, rollups, _unpacked_tallies(conn, tier))
    op.drop_table("history_blocks")
