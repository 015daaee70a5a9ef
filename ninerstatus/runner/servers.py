"""Servers' confirmed states, as the runner records them, and the incidents they open and close.

A server's state is the worst confirmed state of its enabled public checks,
or ``maintenance`` while an announced window is open. Every change is a
``StatusEvent``; a public server going down or degraded gets a draft
incident, and recovering suggests the resolved update on it. Servers are
locked in id order (``FOR UPDATE`` on PostgreSQL) and their checks read
after the lock, so two runners finishing checks of one server at once
still leave one draft, not two.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..checks.models import Check
from ..extensions import db
from ..models import Server, Visibility
from ..probing import Status
from .damping import state_name
from .incidents import TITLE_WORDS, open_incident, suggest_resolved
from .maintenance import WindowsByServer, active_window
from .models import StatusEvent

MAINTENANCE = "maintenance"


def counted_checks(server: Server) -> list[Check]:
    """The checks a server's state is made of: enabled, and shown to visitors when the server is."""
    return [c for c in server.checks if c.enabled and c.visibility is Visibility.PUBLIC]


def verdict(server: Server, windows: WindowsByServer, now: datetime) -> str:
    """What ``server``'s state should be at ``now``."""
    if active_window(windows.get(server.id, []), now) is not None:
        return MAINTENANCE
    return state_name(Status.worst(Status[c.state.upper()] for c in counted_checks(server)))


def update_servers(server_ids: Iterable[int], windows: WindowsByServer, now: datetime) -> None:
    """Bring the states of ``server_ids`` up to date, inside the caller's write transaction."""
    ids = sorted(set(server_ids))
    if not ids:
        return
    servers = db.session.scalars(
        select(Server).where(Server.id.in_(ids)).order_by(Server.id)
        .options(selectinload(Server.checks)).with_for_update(of=Server)).all()
    for server in servers:
        current = verdict(server, windows, now)
        if current != server.state:
            _change(server, current, now)


def stale_server_ids(windows: WindowsByServer, now: datetime) -> list[int]:
    """Servers whose recorded state no longer matches (a window opened or closed, a check went away)."""
    servers = db.session.scalars(select(Server).options(selectinload(Server.checks)))
    return [s.id for s in servers if verdict(s, windows, now) != s.state]


def _change(server: Server, current: str, now: datetime) -> None:
    previous = server.state if server.state_since is not None else None
    failing = [c for c in counted_checks(server) if c.state in TITLE_WORDS]
    summary = "; ".join(f"{c.title}: {c.result.summary if c.result else c.state}" for c in failing)
    db.session.add(StatusEvent(server_id=server.id, occurred_at=now, previous=previous, current=current,
                               summary=summary[:300]))
    server.state, server.state_since = current, now
    if not server.is_public:
        return
    if current in TITLE_WORDS and server.incident_post_id is None:
        open_incident(server, current, failing, now)
    elif current == state_name(Status.OK) and server.incident_post_id is not None:
        suggest_resolved(server, now)
