"""Subscriptions: visitors' e-mail subscribers, their server choices, subscribe attempts and broadcasts;
an index of the outbox's unsent messages.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(length=254), nullable=False, unique=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("all_servers", sa.Boolean(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(), nullable=True),
        sa.Column("unsubscribed_at", sa.DateTime(), nullable=True),
        sa.Column("bounces", sa.Integer(), nullable=False),
        sa.Column("last_bounce_at", sa.DateTime(), nullable=True),
        sa.Column("last_bounce", sa.Text(), nullable=False),
    )
    op.create_table(
        "subscriber_servers",
        sa.Column("subscriber_id", sa.Integer(), sa.ForeignKey("subscribers.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("server_id", sa.Integer(), sa.ForeignKey("servers.id", ondelete="CASCADE"), primary_key=True),
    )
    op.create_index("ix_subscriber_servers_server_id", "subscriber_servers", ["server_id"])
    op.create_table(
        "subscribe_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account", sa.String(length=254), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
    )
    for column in ("account", "address", "attempted_at"):
        op.create_index(f"ix_subscribe_attempts_{column}", "subscribe_attempts", [column])
    op.create_table(
        "subscriber_broadcasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("posts.id", ondelete="SET NULL"), nullable=True),
        sa.Column("update_id", sa.Integer(), sa.ForeignKey("post_updates.id", ondelete="SET NULL"), nullable=True),
        sa.Column("about_update", sa.Boolean(), nullable=False),
        sa.Column("base_url", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("letter", sa.JSON(), nullable=True),
        sa.Column("server_ids", sa.JSON(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("mails", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
    )
    op.create_index("ix_subscriber_broadcasts_post_id", "subscriber_broadcasts", ["post_id"])
    op.create_index("ix_subscriber_broadcasts_finished_at", "subscriber_broadcasts", ["finished_at"])
    # The outbox's claim reads only unsent messages: a broadcast leaves thousands of sent ones behind.
    op.create_index("ix_notifications_unsent_due", "notifications", ["next_attempt_at"],
                    sqlite_where=sa.text("sent_at IS NULL"), postgresql_where=sa.text("sent_at IS NULL"))


def downgrade():
    op.drop_index("ix_notifications_unsent_due", table_name="notifications")
    op.drop_table("subscriber_broadcasts")
    op.drop_table("subscribe_attempts")
    op.drop_table("subscriber_servers")
    op.drop_table("subscribers")
