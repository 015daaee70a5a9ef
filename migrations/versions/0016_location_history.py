"""Per-location history: what each location saw of each check, raw by hour and tallied by day.

history_location_raw keeps a location's results of a check one row per
hour, packed as history_raw's are (ninerstatus/history/packing.py), and
history_location_daily their daily tallies, as history_rollups' daily rows
hold a check's. Both go with their check or their location.

A site with no agent location has had one vantage point, its own runner,
so its checks' raw results and daily tallies so far are that location's and
are copied to it. A site with agents already had combined history that no
single location saw: its per-location history starts now.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

#: The columns of a daily tally, as history_rollups has them.
COUNTS = ("up", "degraded", "down", "unknown", "maintenance")
TALLY_COLUMNS = (*COUNTS, "latency_min_us", "latency_max_us", "latency_sum_us", "histogram")
DAY = 86400


def _key_columns(table, time_column):
    """The key of a per-location table, check, time, then location; a row goes with its check or its location."""
    return [
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column(time_column, sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("location_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f(f"fk_{table}_check_id_checks"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"], name=op.f(f"fk_{table}_location_id_locations"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("check_id", time_column, "location_id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    op.create_table(
        "history_location_raw",
        *_key_columns("history_location_raw", "hour_start"),
        sa.Column("results", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "history_location_daily",
        *_key_columns("history_location_daily", "day_start"),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS),
        sa.Column("latency_min_us", sa.Integer(), nullable=True),
        sa.Column("latency_max_us", sa.Integer(), nullable=True),
        sa.Column("latency_sum_us", sa.BigInteger(), nullable=False),
        sa.Column("histogram", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    # Copied as stored: the bytes and tallies keep their meaning, and a row spoiled by hand stays one
    # that every reader already skips.
    site = "(SELECT min(id) FROM locations WHERE is_site)"
    no_agents = "NOT EXISTS (SELECT 1 FROM locations WHERE NOT is_site)"
    op.execute(f"INSERT INTO history_location_raw (check_id, hour_start, location_id, results) "
               f"SELECT check_id, hour_start, {site}, results FROM history_raw "
               f"WHERE {no_agents} AND {site} IS NOT NULL")
    tallies = ", ".join(TALLY_COLUMNS)
    op.execute(f"INSERT INTO history_location_daily (check_id, day_start, location_id, {tallies}) "
               f"SELECT check_id, bucket_start, {site}, {tallies} FROM history_rollups "
               f"WHERE width = {DAY} AND {no_agents} AND {site} IS NOT NULL")


def downgrade():
    op.drop_table("history_location_daily")
    op.drop_table("history_location_raw")
