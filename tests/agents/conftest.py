"""Fixtures for the probe-location tests: a site with an agent location, and signed agent requests."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest

from ninerstatus.agents.locations import issue_token
from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.agents.signing import signed_headers
from ninerstatus.extensions import db
from ninerstatus.probing import Status

from ..api.conftest import add_check
from ..factories import make_server


@dataclass
class AgentSite:
    """A site whose location Lusaka probes check ``mine``; check ``theirs`` is probed by another location only."""

    token: str
    location_id: int
    mine: int
    theirs: int
    other_token: str


def add_location(name: str, check_ids: list[int], network: str = "") -> tuple[Location, str]:
    """A location probing ``check_ids``, and its token."""
    location = Location(name=name, network=network)
    db.session.add(location)
    db.session.flush()
    for check_id in check_ids:
        db.session.add(CheckLocation(check_id=check_id, location_id=location.id))
    token = issue_token(location)
    db.session.commit()
    return location, str(token)


@pytest.fixture
def agent_site(app) -> AgentSite:
    with app.app_context():
        server = make_server("NC036")
        mine = add_check(server, Status.OK, label="Submission")
        theirs = add_check(server, Status.OK, label="IMAP")
        mine.settings = {"username": "probe", "password": "assigned-secret"}
        theirs.settings = {"username": "other", "password": "other-secret"}
        db.session.commit()
        location, token = add_location("Lusaka", [mine.id], network="MTN")
        _, other_token = add_location("Frankfurt", [theirs.id])
        return AgentSite(token, location.id, mine.id, theirs.id, other_token)


def agent_call(client, token: str, method: str, path: str, body: Any = None, *, now: float | None = None,
               raw: bytes | None = None, tamper: dict[str, str] | None = None):
    """Send a request signed with ``token`` as an agent does (``raw`` bytes instead of JSON ``body``)."""
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    headers = signed_headers(token, method, path, data, time.time() if now is None else now)
    headers.update(tamper or {})
    if data:
        headers["Content-Type"] = "application/json"
    return client.open(path, method=method, data=data, headers=headers)


def result_for(check_id: int, status: str = "OK", checked_at: str = "2026-12-02T10:00:00+00:00") -> dict:
    """One result as an agent sends it."""
    return {"check_id": check_id, "result": {"status": status, "summary": "STARTTLS ok", "checked_at": checked_at}}


def batch(batch_id: str, *results: dict, sent_at: float | None = None) -> dict:
    """A batch body."""
    return {"batch_id": batch_id, "sent_at": time.time() if sent_at is None else sent_at,
            "agent_version": "0.1.0", "backlog": 0, "dropped": 0, "results": list(results)}
