"""Probe runner: check scheduling and flap damping, server states, maintenance windows,
status events, runner heartbeats and the notification outbox.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("checks") as batch_op:
        batch_op.add_column(sa.Column("failures_before_down", sa.Integer(), nullable=False, server_default="2"))
        batch_op.add_column(sa.Column("successes_before_up", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("consecutive_failures", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("consecutive_successes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="unknown"))
        batch_op.add_column(sa.Column("state_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_checks_next_due_at"), ["next_due_at"])
    with op.batch_alter_table("servers") as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="unknown"))
        batch_op.add_column(sa.Column("state_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("incident_post_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_servers_incident_post_id_posts"), "posts",
                                    ["incident_post_id"], ["id"], ondelete="SET NULL")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.add_column(sa.Column("starts_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ends_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("origin", sa.String(length=16), nullable=False, server_default="staff"))
        batch_op.add_column(sa.Column("pending_update_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("pending_update_html", sa.Text(), nullable=True))
    op.create_table(
        "runners",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runners")),
    )
    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("server_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("previous", sa.String(length=16), nullable=True),
        sa.Column("current", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(["check_id"], ["checks.id"], name=op.f("fk_status_events_check_id_checks"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["server_id"], ["servers.id"], name=op.f("fk_status_events_server_id_servers"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_events")),
    )
    op.create_index(op.f("ix_status_events_check_id"), "status_events", ["check_id"])
    op.create_index(op.f("ix_status_events_server_id"), "status_events", ["server_id"])
    op.create_index(op.f("ix_status_events_occurred_at"), "status_events", ["occurred_at"])
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["status_events.id"],
                                name=op.f("fk_notifications_event_id_status_events"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(op.f("ix_notifications_next_attempt_at"), "notifications", ["next_attempt_at"])


def downgrade():
    op.drop_index(op.f("ix_notifications_next_attempt_at"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_status_events_occurred_at"), table_name="status_events")
    op.drop_index(op.f("ix_status_events_server_id"), table_name="status_events")
    op.drop_index(op.f("ix_status_events_check_id"), table_name="status_events")
    op.drop_table("status_events")
    op.drop_table("runners")
    with op.batch_alter_table("posts") as batch_op:
        for column in ("pending_update_html", "pending_update_state", "origin", "ends_at", "starts_at"):
            batch_op.drop_column(column)
    with op.batch_alter_table("servers") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_servers_incident_post_id_posts"), type_="foreignkey")
        for column in ("incident_post_id", "state_since", "state"):
            batch_op.drop_column(column)
    with op.batch_alter_table("checks") as batch_op:
        batch_op.drop_index(batch_op.f("ix_checks_next_due_at"))
        for column in ("lease_until", "lease_owner", "next_due_at", "state_since", "state",
                       "consecutive_successes", "consecutive_failures", "successes_before_up",
                       "failures_before_down"):
            batch_op.drop_column(column)
