"""Staff accounts, and the author of each post.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    # Existing posts keep a NULL author: nobody is invented for them.
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_posts_author_id_users"), "users", ["author_id"], ["id"],
                                    ondelete="SET NULL")


def downgrade():
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_posts_author_id_users"), type_="foreignkey")
        batch_op.drop_column("author_id")
    op.drop_table("users")
