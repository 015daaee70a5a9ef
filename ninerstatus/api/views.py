"""JSON views of the servers visitors can see listed: their state, public checks and uptime.

A public server shows its label (open incidents' floors included, see
docs/states.md) since when, and each public, enabled check with what the
sidebar shows: status since when, the probe's one-line summary, when it was
checked and how long the probe took, and for a check probed from several
locations what each of them saw last. Internal servers say only that they are
internal. Check settings, targets and probe transcripts are never served.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, url_for
from ..checks.listing import ListedCheck, ListedServer, listed_server, listed_servers
from ..checks.located import LocatedResult, located_of, several_locations
from ..checks.status import check_state, latest_result, server_state
from ..history.uptime import check_uptime, server_uptime
from ..public.views import cache_public_pages
from ..timeutil import utcnow
from . import bp
from .caching import remembered
from .statuspage import iso

bp.after_request(cache_public_pages)


@bp.after_request
def readable_from_any_site(response):
    """Public, read-only data: let other sites' pages and widgets fetch it."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def check_json(check: ListedCheck, now: datetime, with_uptime: bool = False) -> dict[str, Any]:
    """One public check as its widget shows it: status since when, key fact, when checked, latency."""
    shown = check_state(check, now)
    result = latest_result(check)
    total = result.timings.total if result and shown.fresh else None
    data = {
        "id": check.id,
        "name": check.title,
        "type": check.type_name,
        "status": shown.status.label,
        "fresh": shown.fresh,
        "since": iso(shown.since),
        "summary": shown.fact,
        "checked_at": iso(check.last_checked_at),
        "latency_ms": round(total * 1000) if total is not None else None,
        "locations": [location_json(item) for item in located_of(several_locations([check]), now).get(check.id, ())],
    }
    if with_uptime:
        data["uptime"] = check_uptime(check, now)
    return data


def location_json(item: LocatedResult) -> dict[str, Any]:
    """What one location saw last of a check; a result too old to count is "unknown" and not fresh, as a check's."""
    return {
        "id": item.location_id,
        "name": item.name,
        "city": item.city,
        "country": item.country,
        "network": item.network,
        "status": item.status.label if item.fresh else "unknown",
        "summary": item.summary,
        "checked_at": iso(item.checked_at),
        "fresh": item.fresh,
    }


def server_json(server: ListedServer, now: datetime, with_uptime: bool = False) -> dict[str, Any]:
    """The public facts of one server; internal ones say only that they are internal."""
    state = server_state(server, now)
    data: dict[str, Any] = {
        "code": server.code,
        "role": server.role,
        "city": server.city,
        "country": server.country,
        "status": state.label.lower(),
        "label": state.label,
        "url": url_for("public.server", code=server.code, _external=True),
    }
    if not server.is_public:
        return data
    data["since"] = iso(state.since)
    data["incident"] = state.incident and {
        "name": state.incident.title, "url": url_for("public.post", slug=state.incident.slug, _external=True)}
    window = state.maintenance
    data["maintenance"] = window and {
        "name": window.title, "url": url_for("public.post", slug=window.slug, _external=True),
        "starts_at": iso(window.starts_at), "ends_at": iso(window.ends_at), "in_progress": window.is_active(now)}
    located_of(several_locations(state.checks), now)  # the checks' locations in one query (none when read already)
    data["checks"] = [check_json(check, now, with_uptime) for check in state.checks]
    if with_uptime:
        data["uptime"] = server_uptime(server, now)
    return data


@bp.get("/servers")
@remembered
def servers():
    """Every listed server in display order, public ones with their checks."""
    now = utcnow()
    # Every check's locations in one query, before each check asks for its own.
    located_of(several_locations([check for s in listed_servers() for check in s.checks]), now)
    return {"servers": [server_json(s, now) for s in listed_servers()]}


@bp.get("/servers/<code>")
@remembered
def server(code: str):
    """One server by its code, public ones with their checks and uptime over 24 h, 7 d, 30 d and 90 d."""
    return server_json(listed_server(code) or abort(404), utcnow(), with_uptime=True)
