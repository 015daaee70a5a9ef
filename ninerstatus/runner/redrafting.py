"""A drafted incident kept in step with its server's trouble until staff publish it.

The trouble a draft describes moves on while it waits for review: a
regional failure becomes an outage once a quorum of locations agrees,
spreads to more networks, shrinks back to fewer, or a location goes silent.
While the draft still holds exactly what the runner last wrote on it (its
``drafted_digest``), nobody has edited it, and the runner rewords it: title,
text, proposed impact and servers' state. Once staff have edited it, their
words stay: the runner suggests an update saying what the monitoring shows
now (``pending_update_state`` and ``pending_update_html``), which staff see
beside the draft and may publish or dismiss, as the resolved update on
recovery. A published incident is staff's words: the runner never touches
it here. Recovery is ``incidents.suggest_resolved``'s, as before.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select

from ..checks.models import Check
from ..extensions import db
from ..models import Post, PostKind, PostStatus, Server, UpdateState
from ..markup import sanitise_html
from .incidents import (BODY_WORDS, PROBE_ORIGIN, TITLE_WORDS, draft_wording, incident_body, reach_of, write_wording,
                        wording_digest, written_digest)
from .transactions import guarded

#: The drafted incidents the runner follows: its own, never published.
FOLLOWED = and_(Post.origin == PROBE_ORIGIN, Post.kind == PostKind.INCIDENT, Post.status == PostStatus.DRAFT,
                Post.published_at.is_(None))


def follow_incident(server: Server, failing: list[Check], now: datetime) -> None:
    """Bring the unpublished draft ``server`` is linked to in line with its trouble at ``now``.

    ``failing``: the server's counted checks that fail now. Inside the
    caller's write transaction, with ``server`` locked; the draft is locked
    too (PostgreSQL) and read afresh, so an edit staff saved a moment ago is
    seen and kept. A draft that cannot be worded (whatever its stored rows
    hold) is left as it is, logged, and the runner carries on.
    """
    guarded(f"rewording the drafted incident of server {server.id}", _follow, server, failing, now)


def _follow(server: Server, failing: list[Check], now: datetime) -> None:
    state = server.state
    if state not in TITLE_WORDS or server.incident_post_id is None:
        return  # unknown and maintenance are not trouble a draft describes; recovery is suggest_resolved's
    post = db.session.scalar(
        select(Post).where(Post.id == server.incident_post_id, FOLLOWED)
        .with_for_update(of=Post).execution_options(populate_existing=True))
    if post is None:
        return
    since = server.state_since or now
    reaches = reach_of(failing, now)
    wording = draft_wording(server, state, failing, since, reaches)
    remembered = post.drafted_digest
    now_says = wording_digest(wording, [server.id])
    if remembered and remembered == written_digest(post):
        if now_says != remembered:
            write_wording(post, wording, now)
            post.pending_update_state = post.pending_update_html = None
    elif remembered and remembered != now_says:
        _suggest_update(post, incident_body(server, BODY_WORDS[state], failing, since, reaches, update=True), now)
        post.drafted_digest = now_says
    elif not remembered:
        # Drafted before the runner remembered its words: what it was based on is unknown, so
        # nothing is suggested until the trouble changes from now on.
        post.drafted_digest = now_says


def _suggest_update(post: Post, body_html: str, now: datetime) -> None:
    """Suggest the update ``body_html`` (what the monitoring shows now), in the state the post's timeline is in."""
    latest = post.updates[0].state if post.updates else None
    kept = latest if isinstance(latest, UpdateState) and latest is not UpdateState.RESOLVED else None
    post.pending_update_state = (kept or UpdateState.INVESTIGATING).value
    post.pending_update_html = sanitise_html(body_html)
    post.updated_at = now
