"""Incident posts drafted by the probes, and the "resolved" update they suggest on recovery.

Nothing here is ever published: a draft waits for staff to review it, and
the resolved update waits on the post (``pending_update_state`` and
``pending_update_html``) until staff publish it as a real update. Text
that came from a server is escaped here and the whole body sanitised by
``Post.set_body``, like anything staff write.
"""
from __future__ import annotations

from datetime import datetime

from markupsafe import escape
from sqlalchemy import func, select

from ..checks.models import Check
from ..extensions import db
from ..markup import sanitise_html
from ..models import Post, PostKind, PostStatus, Server
from ..probing import Status
from ..slugs import unique_slug
from ..timeutil import format_timestamp

PROBE_ORIGIN = "probe"
#: The confirmed server states that draft an incident, as a title and as a sentence says them.
TITLE_WORDS = {"critical": "outage", "warning": "degraded"}
BODY_WORDS = {"critical": "down", "warning": "degraded"}


def open_incident(server: Server, state: str, failing: list[Check], now: datetime) -> Post:
    """Link ``server`` to an incident post about its trouble: a new draft, or one whose recovery is unconfirmed.

    A server that fails again before staff have published the resolved
    update gets its previous post back instead of a second draft.
    """
    post = _awaiting_resolution(server)
    if post is not None:
        post.pending_update_state = post.pending_update_html = None
    else:
        post = _draft(server, state, failing, now)
    server.incident_post = post
    return post


def suggest_resolved(server: Server, now: datetime) -> None:
    """Put a "resolved" update on ``server``'s incident post for staff to publish, and unlink the post."""
    post = server.incident_post
    post.pending_update_state = "resolved"
    post.pending_update_html = sanitise_html(
        f"<p>The probes see <strong>{escape(server.code)}</strong> operational again since "
        f"{escape(format_timestamp(now))}: all its checks pass.</p>")
    post.updated_at = now
    server.incident_post = None


def _awaiting_resolution(server: Server) -> Post | None:
    return db.session.scalar(
        select(Post).where(Post.origin == PROBE_ORIGIN, Post.pending_update_state == "resolved",
                           Post.servers.any(Server.id == server.id))
        .order_by(Post.created_at.desc(), Post.id.desc()).limit(1))


def _draft(server: Server, state: str, failing: list[Check], now: datetime) -> Post:
    title = f"{server.code}: {server.role or 'Server'} {TITLE_WORDS[state]}"
    post = Post(title=title, slug=unique_slug(title, _slug_taken, max_length=220), kind=PostKind.INCIDENT,
                status=PostStatus.DRAFT, origin=PROBE_ORIGIN, created_at=now, updated_at=now)
    post.set_body(incident_body(server, BODY_WORDS[state], failing, now))
    post.servers = [server]
    db.session.add(post)
    return post


def incident_body(server: Server, word: str, failing: list[Check], now: datetime) -> str:
    """The draft's text: which server, since when, and what each failing check saw."""
    where = ", ".join(part for part in (server.role, server.place) if part)
    items = "".join(_check_item(check) for check in failing)
    return (
        f"<p>The probes found <strong>{escape(server.code)}</strong>{f' ({escape(where)})' if where else ''} "
        f"{escape(word)} since {escape(format_timestamp(now))}.</p>"
        f"<h3>Failing checks</h3><ul>{items}</ul>"
        "<p><em>Drafted by the probe runner from what the checks saw; review before publishing.</em></p>")


def _check_item(check: Check) -> str:
    result = check.result
    seen = result.summary if result else "no result"
    kind = f" ({result.error_kind.value})" if result and result.error_kind else ""
    since = f" since {format_timestamp(check.state_since)}" if check.state_since else ""
    return (f"<li><strong>{escape(check.title)}</strong> ({escape(check.type_name)} "
            f"{escape(check.host)}:{check.port}): {escape(Status[check.state.upper()].label)}{escape(since)}; "
            f"the probe saw: <code>{escape(seen)}</code>{escape(kind)}</li>")


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(select(func.count()).where(Post.slug == slug)) > 0
