"""Indexes that let visitors' pages read visibility and open incidents from the index alone.

ix_posts_visible (publication time, status, kind) replaces the index on the
publication time alone: the home page's count of posts, the tag cloud and
the summary's open incidents and maintenance windows all filter on those
three columns, and reading each post's row to check its status cost a few
milliseconds per page on a site with a thousand posts.
ix_post_updates_latest (post, time, id, state) replaces the index on the
post alone: "is this incident still open" asks each incident's newest
update for its state, which now takes one step in the index, without a sort.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_posts_visible", "posts", ["published_at", "status", "kind"])
    op.drop_index("ix_posts_published_at", table_name="posts")
    op.create_index("ix_post_updates_latest", "post_updates", ["post_id", "created_at", "id", "state"])
    op.drop_index("ix_post_updates_post_id", table_name="post_updates")


def downgrade():
    op.create_index("ix_post_updates_post_id", "post_updates", ["post_id"])
    op.drop_index("ix_post_updates_latest", table_name="post_updates")
    op.create_index("ix_posts_published_at", "posts", ["published_at"])
    op.drop_index("ix_posts_visible", table_name="posts")
