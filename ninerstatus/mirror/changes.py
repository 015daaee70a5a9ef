"""Whether the public site changed since the last export, asked cheaply of the database.

``site_fingerprint`` is a handful of small queries (no page is drawn):
what visitors see changes when a server or check changes state (a status
event), a post is published, edited, unpublished or reaches its scheduled
time (the count and newest time of visible posts), an update is added, or
staff edit servers, checks or tags. A probe result that changes nothing
(the "checked 12 s ago" times) does not count: the mirror would otherwise be
rewritten every few seconds for nothing.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, select

from ..checks.models import Check
from ..extensions import db
from ..models import Post, PostUpdate, Server, Tag
from ..runner.models import StatusEvent


def _digest(rows) -> str:
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def site_fingerprint(now: datetime | None = None) -> tuple:
    """A value that differs whenever something a visitor sees on the site has changed."""
    posts = db.session.execute(select(func.count(Post.id), func.max(Post.updated_at), func.max(Post.published_at))
                               .where(Post.visible_clause(now))).one()
    updates = db.session.execute(select(func.count(PostUpdate.id), func.max(PostUpdate.id))).one()
    events = db.session.execute(select(func.max(StatusEvent.id))).one()
    # Not Check.updated_at: each probe result updates the row.
    checks = db.session.execute(select(Check.id, Check.server_id, Check.type_name, Check.label, Check.visibility,
                                       Check.enabled, Check.display_order, Check.state, Check.state_since)
                                .order_by(Check.id)).all()
    servers = db.session.execute(select(Server.code, Server.role, Server.city, Server.country, Server.visibility,
                                        Server.display_order, Server.state, Server.state_since, Server.notes)
                                 .order_by(Server.id)).all()
    tags = db.session.execute(select(Tag.id, Tag.name, Tag.slug).order_by(Tag.id)).all()
    return (tuple(posts), tuple(updates), tuple(events), _digest(checks), _digest(servers), _digest(tags))
