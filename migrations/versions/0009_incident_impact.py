"""Incident impact: how bad staff judge an incident, and the state it holds its servers in while open.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("impact", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("affected_state", sa.String(16), nullable=True))


def downgrade():
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("affected_state")
        batch_op.drop_column("impact")
