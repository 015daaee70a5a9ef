"""The history revision: what lets each worker sum the bars of past days once instead of on every page.

The sidebar's 90-day strips summed about 9,000 daily rows (100 checks) on
every page, though only today's bar changes as results come in. Each
worker now keeps the sums of the days already over, for as long as this
number stays the same: staff changing which checks count (visibility,
switched off, moved to another server, deleted), a result arriving late
for a past day and retention deleting daily rows each add one to it.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "history_revision",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(table, [{"id": 1, "revision": 1}])


def downgrade():
    op.drop_table("history_revision")
