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

from .models import AffectedState, IncidentImpact, Post, PostKind, PostUpdate, UpdateState
from .post_rows import SERVER_ORDER, PostRow, newest_update, post_rows, with_servers_and_newest_update
from .per_request import once_per_request
from .plain_rows import plain_rows

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
    return newest_update(PostUpdate.state)


def open_incident_clause(now: datetime):
    """SQL condition for published incidents open at ``now``: their newest update is not "resolved"."""
    latest = latest_update_state()
    return and_(Post.visible_clause(now), Post.kind == PostKind.INCIDENT, latest.is_not(None),
                latest != UpdateState.RESOLVED)


@dataclass(frozen=True)
class OpenIncident:
    """A published incident open at the time asked, with what the status summary and the floors show of it."""

    id: int
    title: str
    slug: str
    impact: IncidentImpact | None
    affected_state: AffectedState | None
    published_at: datetime
    # When it started: its publication or its first update, whichever came first.
    started_at: datetime
    # Its newest update: never "resolved", since the incident is open.
    state: UpdateState
    latest_html: str
    latest_at: datetime
    # The servers it names (id and code), in the order ``Post.servers`` lists them.
    servers: tuple[tuple[int, str], ...]

    @property
    def server_codes(self) -> tuple[str, ...]:
        """The codes of the servers it names."""
        return tuple(code for _id, code in self.servers)


@cache
def _open_incidents_query() -> Select:
    """``open_incidents``' query, built once per process (see ``checks.listing``) and sent with the time.

    The update columns are worked out for the open incidents' rows only, so a
    site with years of resolved incidents pays for the open ones alone.
    """
    first_update = (select(func.min(PostUpdate.created_at)).where(PostUpdate.post_id == Post.id)
                    .correlate(Post).scalar_subquery())
    return (with_servers_and_newest_update(Post.id, Post.title, Post.slug, Post.impact, Post.affected_state,
                                           Post.published_at, first_update)
            .where(open_incident_clause(bindparam("now")))
            .order_by(Post.published_at.desc(), Post.id.desc(), *SERVER_ORDER))


def _open_incident(row: PostRow) -> OpenIncident:
    id_, title, slug, impact, affected_state, published_at, first_update_at = row.columns
    return OpenIncident(id_, title, slug, impact, affected_state, published_at,
                        min(filter(None, (published_at, first_update_at))), row.state, row.latest_html or "",
                        row.latest_at, row.servers)


def open_incidents(now: datetime) -> list[OpenIncident]:
    """Published incidents open at ``now`` (``incident_is_open`` in SQL), newest first, as plain values."""
    return [_open_incident(row) for row in post_rows(plain_rows(_open_incidents_query(), {"now": now}))]


def request_open_incidents(now: datetime) -> list[OpenIncident]:
    """``open_incidents``, asked once per request: the summary and every server's floor read the same list."""
    return once_per_request("open_incidents", lambda: open_incidents(now))


def floors_by_server(incidents: list[OpenIncident]) -> FloorsByServer:
    """The floor each server is held at by the open ``incidents`` naming it (the worst, then the earliest)."""
    floors: FloorsByServer = {}
    # Oldest first: of two floors alike in state and start, the older incident's holds.
    for incident in reversed(incidents):
        if incident.affected_state is None:
            continue
        floor = IncidentFloor(incident.affected_state, incident.started_at, incident.title, incident.slug)
        for server_id, _code in incident.servers:
            kept = floors.get(server_id)
            if kept is None or (SEVERITY[floor.state], kept.since) > (SEVERITY[kept.state], floor.since):
                floors[server_id] = floor
    return floors


def request_floors(now: datetime) -> FloorsByServer:
    """``floors_by_server``, asked once per request however many servers the page or document shows."""
    return once_per_request("incident_floors", lambda: floors_by_server(request_open_incidents(now)))
