"""A batch of results costs the site a fixed, small number of statements, whatever its size."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event

from ninerstatus.extensions import db
from ninerstatus.probing import Status

from ..api.conftest import add_check
from ..factories import make_server
from .conftest import add_location, agent_call, batch, result_for

RESULTS = "/api/agent/v1/results"


@pytest.fixture
def busy_location(app):
    """A location probing ten checks on two servers, and its token."""
    with app.app_context():
        servers = [make_server(code) for code in ("NC040", "NC041")]
        checks = [add_check(server, Status.OK, label=f"SMTP {n}") for server in servers for n in range(5)]
        ids = [check.id for check in checks]
        _, token = add_location("Lusaka", ids)
    return token, ids


def statements_of(app, call) -> list[str]:
    with app.app_context():
        engine = db.engine
    seen = []

    def executed(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", executed)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    return seen


def test_statements(app, client, busy_location):
    token, ids = busy_location
    start = datetime.now(timezone.utc) - timedelta(minutes=10)
    for number in range(3):
        moment = (start + timedelta(minutes=number)).isoformat()
        body = batch(f"b-{number}", *(result_for(check_id, "OK", checked_at=moment) for check_id in ids))
        seen = statements_of(app, lambda: agent_call(client, token, "POST", RESULTS, body))
    for s in seen:
        print(" ".join(s.split())[:150])
    print(len(seen))
    assert 0
