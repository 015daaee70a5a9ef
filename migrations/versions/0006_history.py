"""History: raw probe results and 5-minute, hourly and daily rollups.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# history_histogram_merge(a, b): the sum of two histograms encoded as
# ninerstatus/history/histogram.py does (per non-empty bucket, ascending: its
# index as one byte, then its count as an unsigned LEB128 varint). SQLite gets
# the same function from Python on each connection.
MERGE_FUNCTION = r"""
CREATE FUNCTION history_histogram_merge(a bytea, b bytea) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    counts bigint[] := array_fill(0::bigint, ARRAY[256]);
    source bytea;
    pos integer;
    bucket integer;
    n bigint;
    shift integer;
    octet integer;
    top integer := 0;
    merged bytea := '\x'::bytea;
BEGIN
    IF a IS NULL OR length(a) = 0 THEN RETURN coalesce(b, '\x'::bytea); END IF;
    IF b IS NULL OR length(b) = 0 THEN RETURN a; END IF;
    FOREACH source IN ARRAY ARRAY[a, b] LOOP
        pos := 0;
        WHILE pos < length(source) LOOP
            bucket := get_byte(source, pos);
            n := 0;
            shift := 0;
            LOOP
                pos := pos + 1;
                octet := get_byte(source, pos);
                n := n | ((octet & 127)::bigint << shift);
                shift := shift + 7;
                EXIT WHEN octet < 128;
            END LOOP;
            pos := pos + 1;
            counts[bucket + 1] := counts[bucket + 1] + n;
            top := greatest(top, bucket);
        END LOOP;
    END LOOP;
    FOR bucket IN 0..top LOOP
        n := counts[bucket + 1];
        CONTINUE WHEN n = 0;
        merged := merged || set_byte('\x00'::bytea, 0, bucket);
        WHILE n >= 128 LOOP
            merged := merged || set_byte('\x00'::bytea, 0, ((n & 127) | 128)::integer);
            n := n >> 7;
        END LOOP;
        merged := merged || set_byte('\x00'::bytea, 0, n::integer);
    END LOOP;
    RETURN merged;
END
$$
"""


def upgrade():
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
    op.create_table(
        "history_rollups",
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("bucket_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("up", sa.Integer(), nullable=False),
        sa.Column("degraded", sa.Integer(), nullable=False),
        sa.Column("down", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("maintenance", sa.Integer(), nullable=False),
        sa.Column("latency_min_us", sa.Integer(), nullable=True),
        sa.Column("latency_max_us", sa.Integer(), nullable=True),
        sa.Column("latency_sum_us", sa.BigInteger(), nullable=False),
        sa.Column("histogram", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f("fk_history_rollups_check_id_checks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("check_id", "width", "bucket_start", name=op.f("pk_history_rollups")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MERGE_FUNCTION)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION history_histogram_merge(bytea, bytea)")
    op.drop_table("history_rollups")
    op.drop_table("history_results")
