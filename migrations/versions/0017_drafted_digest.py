"""Drafted incidents remember the words the runner gave them, so it can tell a draft staff edited from its own.

posts.drafted_digest holds a fingerprint of the title, text, impact,
servers' state and servers the runner last wrote on a drafted incident (or
last meant to, for a draft staff had edited). Drafts from before this
revision have none: the runner first remembers what it would write on them
then, and rewords one later only if it held exactly those words.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("drafted_digest", sa.String(64), nullable=True))


def downgrade():
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_column("drafted_digest")
