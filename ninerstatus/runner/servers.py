"""Servers' confirmed states, as the runner records them, and the incidents they open and close.

A server's state is what the partial rule (``checks.status.combined_label``)
makes of the confirmed states of its enabled public checks, recorded as
``checks.status.RECORDED`` names it (``ok``, ``warning``, ``partial_outage``,
``critical``, ``unknown``), or ``maintenance`` while an announced window is
open. Open incidents' declared states are not recorded here: they are
staff's word, applied where states are shown, and draft nothing. Every
change is a ``StatusEvent``; a public server going down, partly down or
degraded gets a draft incident, which follows its trouble while unpublished
(see redrafting.py), and recovering suggests the resolved update on it.
Servers are locked in id order (``FOR UPDATE`` on PostgreSQL) and their
checks read after the lock, so two runners finishing checks of one server
at once still leave one draft, not two.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select

from ..checks.models import Check
from ..checks.status import MAINTENANCE_LABEL, RECORDED, combined_label
from ..extensions import db
from ..models import Post, Server, Visibility
from ..probing import Status
from .damping import state_name
from .incidents import TITLE_WORDS, open_incident, suggest_resolved
from .maintenance import WindowsByServer, active_window
from .models import StatusEvent
from .redrafting import FOLLOWED, follow_incident

MAINTENANCE = RECORDED[MAINTENANCE_LABEL]
#: The confirmed check states that make a service fail, and so are named in a drafted incident.
FAILING = (state_name(Status.CRITICAL), state_name(Status.WARNING))


def counted(statement):
    """``statement`` narrowed to the checks a server's state is made of: enabled and public."""
    return statement.where(Check.enabled, Check.visibility == Visibility.PUBLIC)


def check_states(server_ids: list[int] | None = None) -> dict[int, list[str]]:
    """The confirmed states of the counted checks of ``server_ids`` (of every server when None).

    Read as plain columns: a server's state needs nothing else, and loading
    whole checks (with their latest results) would cost far more.
    """
    # Counted by the database: a server's hundred checks come back as a row or two.
    statement = counted(select(Check.server_id, Check.state, func.count())).group_by(Check.server_id, Check.state)
    if server_ids is not None:
        statement = statement.where(Check.server_id.in_(server_ids))
    states: dict[int, list[str]] = defaultdict(list)
    for server_id, state, count in db.session.execute(statement):
        states[server_id].extend([state] * count)
    return states


def verdict(server_id: int, states: Iterable[str], windows: WindowsByServer, now: datetime) -> str:
    """What the state of server ``server_id``, whose counted checks are in ``states``, should be at ``now``."""
    if active_window(windows.get(server_id, []), now) is not None:
        return MAINTENANCE
    # A state no status names (a hand edit, an older release) counts as UNKNOWN, which is never downtime.
    states = list(states)
    statuses = {state: Status.__members__.get(state.upper(), Status.UNKNOWN) for state in set(states)}
    return RECORDED[combined_label([statuses[state] for state in states])]


def update_servers(server_ids: Iterable[int], windows: WindowsByServer, now: datetime) -> None:
    """Bring the states of ``server_ids`` up to date, inside the caller's write transaction."""
    ids = sorted(set(server_ids))
    if not ids:
        return
    servers = db.session.scalars(
        select(Server).where(Server.id.in_(ids)).order_by(Server.id).with_for_update(of=Server)).all()
    states = check_states(ids)
    for server in servers:
        current = verdict(server.id, states.get(server.id, ()), windows, now)
        if current != server.state:
            _change(server, current, now)
        elif server.is_public and server.incident_post_id is not None:
            follow_incident(server, _failing(server), now)


def stale_server_ids(windows: WindowsByServer, now: datetime) -> list[int]:
    """Servers whose recorded state no longer matches (a window opened or closed, a check went away), and those
    with an unpublished drafted incident, whose trouble may have moved on with no check changing state (an
    agent went silent, one more network fails)."""
    states = check_states()
    stale = [server_id for server_id, state in db.session.execute(select(Server.id, Server.state))
             if verdict(server_id, states.get(server_id, ()), windows, now) != state]
    drafted = select(Server.id).join(Post, Post.id == Server.incident_post_id).where(FOLLOWED)
    return stale + list(db.session.scalars(drafted))


def _failing(server: Server) -> list[Check]:
    """The counted checks of ``server`` that fail now, in the order its page shows them."""
    return list(db.session.scalars(counted(select(Check)).where(
        Check.server_id == server.id, Check.state.in_(FAILING)).order_by(Check.display_order, Check.id)))


def _change(server: Server, current: str, now: datetime) -> None:
    previous = server.state if server.state_since is not None else None
    failing = _failing(server)
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
    elif server.incident_post_id is not None:
        follow_incident(server, failing, now)
