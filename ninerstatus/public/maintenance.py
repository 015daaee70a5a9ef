"""Maintenance as visitors are told about it: "scheduled maintenance" ahead of a window, "under maintenance" in it.

A window belongs to a published maintenance post; drafts and posts scheduled
for later announce nothing. Templates get ``announced_maintenance()`` (the
windows not over yet, soonest first) and ``window_phase(post)``.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Post, PostKind
from ..timeutil import utcnow
from . import bp

SCHEDULED, UNDER_WAY, OVER = "scheduled", "under way", "over"


def window_phase(post: Post, now: datetime | None = None) -> str | None:
    """Where ``now`` falls in the post's maintenance window: scheduled, under way, over; None without one."""
    if post.kind is not PostKind.MAINTENANCE or post.starts_at is None or post.ends_at is None:
        return None
    now = now or utcnow()
    return SCHEDULED if now < post.starts_at else UNDER_WAY if now < post.ends_at else OVER


def announced_maintenance(now: datetime | None = None) -> list[Post]:
    """Published maintenance posts whose window is ahead or open at ``now``, soonest first."""
    now = now or utcnow()
    return list(db.session.scalars(
        select(Post).where(Post.announced_window_clause(now))
        .options(selectinload(Post.servers))
        .order_by(Post.starts_at, Post.id)))


@bp.app_context_processor
def maintenance_helpers() -> dict:
    """Let every template announce maintenance windows."""
    return {"announced_maintenance": announced_maintenance, "window_phase": window_phase}
