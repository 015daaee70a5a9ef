"""Runner lanes and lateness: which checks are probed in the slow lane, and how late each runner
started its probes in the window before its latest heartbeat.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LATENESS_COUNTS = ("probes", "late_probes", "late_slow_probes")
LATENESS_FIGURES = ("lag_p99_seconds", "lag_max_seconds")


def upgrade():
    with op.batch_alter_table("checks") as batch_op:
        batch_op.add_column(sa.Column("slow_lane", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("runners") as batch_op:
        batch_op.add_column(sa.Column("lag_window_seconds", sa.Float(), nullable=False, server_default="0"))
        for column in LATENESS_COUNTS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
        for column in LATENESS_FIGURES:
            batch_op.add_column(sa.Column(column, sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table("runners") as batch_op:
        for column in ("lag_window_seconds", *LATENESS_COUNTS, *LATENESS_FIGURES):
            batch_op.drop_column(column)
    with op.batch_alter_table("checks") as batch_op:
        batch_op.drop_column("slow_lane")
