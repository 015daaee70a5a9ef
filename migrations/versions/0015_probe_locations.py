"""Probe locations: the site's runner and agents on other networks, each with its own state of the checks it probes.

Existing data moves to one location named after the site (``SITE_NAME``):
every check is probed from it, with the state the single runner had.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: The per-location copy of a check's single-runner state.
STATE_COLUMNS = ("last_result", "last_checked_at", "consecutive_failures", "consecutive_successes", "state",
                 "state_since")


def upgrade():
    locations = op.create_table(
        "locations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=80), nullable=False, unique=True),
        sa.Column("city", sa.String(length=80), nullable=False),
        sa.Column("country", sa.String(length=80), nullable=False),
        sa.Column("network", sa.String(length=80), nullable=False),
        sa.Column("is_site", sa.Boolean(), nullable=False),
        sa.Column("token_id", sa.String(length=32), nullable=True, unique=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_contact_at", sa.DateTime(), nullable=True),
        sa.Column("agent_version", sa.String(length=40), nullable=True),
        sa.Column("clock_offset_seconds", sa.Float(), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
    )
    op.create_table(
        "check_locations",
        sa.Column("check_id", sa.Integer(), sa.ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("last_result", sa.JSON(), nullable=True),
        sa.Column("last_checked_at", sa.DateTime(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("consecutive_successes", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_since", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_check_locations_location_id", "check_locations", ["location_id"])
    op.create_table(
        "agent_batches",
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("locations.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("batch_id", sa.String(length=64), primary_key=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("results", sa.Integer(), nullable=False),
    )
    op.create_index("ix_agent_batches_received_at", "agent_batches", ["received_at"])
    with op.batch_alter_table("checks") as batch_op:
        batch_op.add_column(sa.Column("quorum", sa.Integer(), nullable=True))

    now = sa.func.current_timestamp()
    op.execute(locations.insert().values(name=current_app.config["SITE_NAME"][:80], city="", country="", network="",
                                         is_site=True, created_at=now, backlog=0, dropped=0))
    columns = ", ".join(STATE_COLUMNS)
    op.execute(f"INSERT INTO check_locations (check_id, location_id, {columns}) "
               f"SELECT checks.id, locations.id, {', '.join('checks.' + c for c in STATE_COLUMNS)} "
               "FROM checks, locations WHERE locations.is_site")


def downgrade():
    with op.batch_alter_table("checks") as batch_op:
        batch_op.drop_column("quorum")
    op.drop_index("ix_agent_batches_received_at", "agent_batches")
    op.drop_table("agent_batches")
    op.drop_index("ix_check_locations_location_id", "check_locations")
    op.drop_table("check_locations")
    op.drop_table("locations")
