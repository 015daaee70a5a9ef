"""The agent API, ``/api/agent/v1/``: an agent fetches its checks and sends back batches of results.

Versioned, JSON only, and answering only about the calling location's own
checks. The protocol is told in full in docs/agents.md, for anyone writing
an agent in another language.
"""
from __future__ import annotations

import json
from datetime import datetime

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import update

from ..extensions import csrf
from ..intake import takes_bodies_up_to
from ..runner.transactions import write_transaction
from ..timeutil import utcnow
from .access import AgentRefused, authenticated_location
from .assignments import assignments_document
from .ingest import accept_batch, one_writer_at_a_time, read_batch
from .models import Location

URL_PREFIX = "/api/agent/v1"

bp = Blueprint("agent_api", __name__, url_prefix=URL_PREFIX)
# Agents prove themselves with a signed token on every request, not with a session and a form token.
csrf.exempt(bp)


@bp.errorhandler(AgentRefused)
def refused(error: AgentRefused) -> Response:
    """Answer a refused request with its status and code, in JSON."""
    response = jsonify({"error": error.code, "message": error.message, **error.extra})
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ninerstatus agents"'
    if "retry_after" in error.extra:
        response.headers["Retry-After"] = str(error.extra["retry_after"])
    return response


@bp.after_request
def never_kept(response: Response) -> Response:
    """Agent answers are for one agent and one moment: no cache may keep them."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/assignments")
def assignments() -> Response:
    """The calling location and the checks it probes."""
    now = utcnow()
    location = authenticated_location(now.timestamp())
    document = assignments_document(location, now.timestamp())
    _note_contact(location.id, now)
    return jsonify(document)


def _note_contact(location_id: int, now: datetime) -> None:
    """Record that the location's agent was heard from at ``now``, in a write transaction of its own.

    Not in the transaction that reads the assignments: the change was written
    there at the first query, so the write lock (the whole database on SQLite)
    was held while hundreds of checks were read and their secrets decrypted,
    and agents' batches waited for it, or failed.
    """
    with one_writer_at_a_time(), write_transaction() as session:
        session.execute(update(Location).where(Location.id == location_id).values(last_contact_at=now))


@bp.post("/results")
@takes_bodies_up_to("AGENT_MAX_BODY_BYTES")
def results() -> Response:
    """Take one batch of results from the calling location, exactly once."""
    now = utcnow()
    location = authenticated_location(now.timestamp())
    try:
        body = json.loads(request.get_data(cache=True))
    except ValueError:
        raise AgentRefused(400, "bad_batch", "the body is not JSON") from None
    accepted = accept_batch(location, read_batch(body, now), now)
    return jsonify({"accepted": accepted, "server_time": now.timestamp()})
