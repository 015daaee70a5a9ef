"""WordPress import: the items and terms imported, for re-imports and the old permalinks.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "wordpress_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("guid", sa.String(500), nullable=False),
        sa.Column("wp_post_id", sa.Integer(), nullable=True),
        sa.Column("link_path", sa.String(500), nullable=False),
        sa.Column("wp_slug", sa.String(220), nullable=False),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("guid"),
    )
    with op.batch_alter_table("wordpress_items") as batch_op:
        batch_op.create_index("ix_wordpress_items_wp_post_id", ["wp_post_id"])
        batch_op.create_index("ix_wordpress_items_link_path", ["link_path"])
        batch_op.create_index("ix_wordpress_items_wp_slug", ["wp_slug"])
        batch_op.create_index("ix_wordpress_items_post_id", ["post_id"])
    op.create_table(
        "wordpress_terms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("taxonomy", sa.String(32), nullable=False),
        sa.Column("wp_slug", sa.String(220), nullable=False),
        sa.Column("tag_id", sa.Integer(), sa.ForeignKey("tags.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("taxonomy", "wp_slug"),
    )
    with op.batch_alter_table("wordpress_terms") as batch_op:
        batch_op.create_index("ix_wordpress_terms_tag_id", ["tag_id"])


def downgrade():
    op.drop_table("wordpress_terms")
    op.drop_table("wordpress_items")
