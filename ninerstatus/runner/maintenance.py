"""Maintenance windows: published maintenance posts with a start and an end, and the servers they list.

During its window a server is under maintenance: visitors see UNDER
MAINTENANCE, failures do not count as downtime and no incident is drafted.
Before it, the server is shown with "scheduled maintenance". A draft or a
post scheduled for later announces nothing, so it changes nothing either.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask import g, has_request_context
from sqlalchemy import Select, bindparam, select

from ..models import Post, post_servers
from ..plain_rows import plain_rows


@dataclass(frozen=True)
class MaintenanceWindow:
    """One announced window of one maintenance post."""

    post_id: int
    title: str
    slug: str
    starts_at: datetime
    ends_at: datetime

    def is_active(self, now: datetime) -> bool:
        """True from the start of the window until just before its end."""
        return self.starts_at <= now < self.ends_at


WindowsByServer = dict[int, list[MaintenanceWindow]]


@cache
def _windows_query() -> Select:
    """``windows_by_server``'s query, built once per process (every page asks it) and sent with the time."""
    return (select(post_servers.c.server_id, Post.id, Post.title, Post.slug, Post.starts_at, Post.ends_at)
            .join(Post, Post.id == post_servers.c.post_id)
            .where(Post.announced_window_clause(bindparam("now")))
            .order_by(Post.starts_at, Post.id))


def windows_by_server(now: datetime, server_ids: Collection[int] | None = None) -> WindowsByServer:
    """Every window not yet over at ``now`` (of ``server_ids`` only, if given), by server id, earliest first."""
    query = _windows_query()
    if server_ids is not None:
        query = query.where(post_servers.c.server_id.in_(sorted(server_ids)))
    rows = plain_rows(query, {"now": now}).all()
    windows: WindowsByServer = defaultdict(list)
    for server_id, *fields in rows:
        windows[server_id].append(MaintenanceWindow(*fields))
    return dict(windows)


def request_windows(now: datetime) -> WindowsByServer:
    """``windows_by_server``, asked once per page however many servers the page shows."""
    if not has_request_context():
        return windows_by_server(now)
    if "maintenance_windows" not in g:
        g.maintenance_windows = windows_by_server(now)
    return g.maintenance_windows


def active_window(windows: list[MaintenanceWindow], now: datetime) -> MaintenanceWindow | None:
    """The window of ``windows`` that is open at ``now``, if any."""
    return next((w for w in windows if w.is_active(now)), None)
