"""Maintenance as visitors are told about it: "scheduled maintenance" ahead of a window, "under maintenance" in it.

A window belongs to a published maintenance post; drafts and posts scheduled
for later announce nothing. Templates get ``window_phase(post)``; the status
summary lists the windows not over yet (``site_status.open_windows``).
"""
from __future__ import annotations

from datetime import datetime

from ..models import Post, PostKind
from ..timeutil import utcnow
from . import bp

SCHEDULED, UNDER_WAY, OVER = "scheduled", "under way", "over"


def window_phase(post: Post, now: datetime | None = None) -> str | None:
    """Where ``now`` falls in the post's maintenance window: scheduled, under way, over; None without one."""
    if post.kind is not PostKind.MAINTENANCE or post.starts_at is None or post.ends_at is None:
        return None
    return phase_at(post.starts_at, post.ends_at, now or utcnow())


def phase_at(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    """Where ``now`` falls in a window from ``starts_at`` to ``ends_at``: scheduled, under way or over."""
    return SCHEDULED if now < starts_at else UNDER_WAY if now < ends_at else OVER


@bp.app_context_processor
def maintenance_helpers() -> dict:
    """Let every template tell where a maintenance window stands."""
    return {"window_phase": window_phase}
