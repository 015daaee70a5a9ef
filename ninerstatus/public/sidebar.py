"""What the sidebar shows on every page: servers, recent posts and the tag cloud."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from flask import current_app
from sqlalchemy import func, select

from sqlalchemy.orm import selectinload

from ..checks.models import Check
from ..checks.status import check_state, latency_ms, server_state, short_time, time_ago
from ..checktypes import DEFAULT_WIDGET
from ..extensions import db
from ..models import Post, Server, Tag, post_tags
from ..plugins import get_plugins

CLOUD_WEIGHTS = 5


@dataclass(frozen=True)
class CloudTag:
    """A tag in the cloud with its visible post count and a weight from 1 to 5."""

    name: str
    slug: str
    count: int
    weight: int


def widget_template(check: Check) -> str:
    """The sidebar widget template of ``check``'s type (the core's own when the plugin is gone)."""
    check_type = get_plugins().check_types.get(check.type_name)
    return check_type.widget_template if check_type else DEFAULT_WIDGET


def tag_cloud(limit: int) -> list[CloudTag]:
    """Return the most used tags (visible posts only), alphabetically, weighted on a log scale."""
    count = func.count(Post.id).label("n")
    rows = db.session.execute(
        select(Tag.name, Tag.slug, count)
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .join(Post, Post.id == post_tags.c.post_id)
        .where(Post.visible_clause())
        .group_by(Tag.id, Tag.name, Tag.slug)
        .order_by(count.desc(), Tag.name)
        .limit(limit)
    ).all()
    if not rows:
        return []
    low, high = math.log(min(r.n for r in rows)), math.log(max(r.n for r in rows))
    span = (high - low) or 1.0
    cloud = [CloudTag(r.name, r.slug, r.n, 1 + round((math.log(r.n) - low) / span * (CLOUD_WEIGHTS - 1)))
             for r in rows]
    return sorted(cloud, key=lambda t: t.name.casefold())


class Sidebar:
    """Sidebar data, queried only when a template actually asks for it."""

    @cached_property
    def servers(self) -> list[Server]:
        return list(db.session.scalars(select(Server).options(selectinload(Server.checks))
                                       .order_by(Server.display_order, Server.code)))

    @cached_property
    def recent_posts(self) -> list[Post]:
        limit = current_app.config["RECENT_POSTS"]
        return list(db.session.scalars(Post.visible().limit(limit)))

    @cached_property
    def tags(self) -> list[CloudTag]:
        return tag_cloud(current_app.config["TAG_CLOUD_SIZE"])


def sidebar_context() -> dict:
    """Context processor: a lazy ``sidebar`` and the server and check helpers for every template."""
    return {"sidebar": Sidebar(), "server_state": server_state, "widget_template": widget_template,
            "time_ago": time_ago, "latency_ms": latency_ms, "check_state": check_state, "short_time": short_time}
