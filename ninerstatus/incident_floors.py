"""Open incidents, and the state each one holds the servers it names in ("the incident floor").

An incident is open while its newest update is not "resolved"; one without
updates is a report written after the fact, so it is over. While it is open,
an incident for which staff chose an affected-server state holds every
server it names at least in that state, whatever the probes say; the probes
can make a server worse, never better (``checks.status.server_state`` applies
the floor). A resolved incident holds nothing. See docs/states.md.

This module only reads: it knows nothing of labels or checks, so the status
rules can import it without a cycle.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, and_, bindparam, func, select

from .extensions import db
from .models import AffectedState, Post, PostKind, PostUpdate, UpdateState, post_servers
from .per_request import once_per_request

#: Affected-server states, mildest first: where one server is named by several open incidents, the worst holds.
SEVERITY = {state: rank for rank, state in enumerate(AffectedState)}


@dataclass(frozen=True)
class IncidentFloor:
    """An open incident's hold on one server: the state it keeps it in at least, and since when."""

    state: AffectedState
    # When the incident started: its publication or its first update, whichever came first.
    since: datetime
    title: str
    slug: str


FloorsByServer = dict[int, IncidentFloor]


def latest_update_state():
    """SQL: the state of a post's newest update (NULL without updates), in the order ``Post.updates`` uses."""
    return (select(PostUpdate.state).where(PostUpdate.post_id == Post.id)
            .order_by(PostUpdate.created_at.desc(), PostUpdate.id.desc()).limit(1)
            .correlate(Post).scalar_subquery())


def open_incident_clause(now: datetime):
    """SQL condition for published incidents open at ``now``: their newest update is not "resolved"."""
    latest = latest_update_state()
    return and_(Post.visible_clause(now), Post.kind == PostKind.INCIDENT, latest.is_not(None),
                latest != UpdateState.RESOLVED)


@cache
def _floors_query() -> Select:
    """``floors_by_server``'s query, built once per process (see ``checks.listing``) and sent with the time."""
    first_update = (select(func.min(PostUpdate.created_at)).where(PostUpdate.post_id == Post.id)
                    .correlate(Post).scalar_subquery())
    return (select(post_servers.c.server_id, Post.affected_state, Post.published_at, first_update, Post.title,
                   Post.slug)
            .join(Post, Post.id == post_servers.c.post_id)
            .where(open_incident_clause(bindparam("now")), Post.affected_state.is_not(None))
            .order_by(Post.published_at, Post.id))


def floors_by_server(now: datetime) -> FloorsByServer:
    """The floor each server is held at by the open incidents naming it (the worst, then the earliest)."""
    rows = db.session.execute(_floors_query(), {"now": now})
    floors: FloorsByServer = {}
    for server_id, state, published_at, first_at, title, slug in rows:
        floor = IncidentFloor(state, min(filter(None, (published_at, first_at))), title, slug)
        kept = floors.get(server_id)
        if kept is None or (SEVERITY[floor.state], kept.since) > (SEVERITY[kept.state], floor.since):
            floors[server_id] = floor
    return floors


def request_floors(now: datetime) -> FloorsByServer:
    """``floors_by_server``, asked once per request however many servers the page or document shows."""
    return once_per_request("incident_floors", lambda: floors_by_server(now))
