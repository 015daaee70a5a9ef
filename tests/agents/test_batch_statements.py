"""A batch of results costs the site a fixed, small number of statements, whatever its size; a refused row costs
only its own result."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from ninerstatus.agents.models import AgentBatch, CheckLocation
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.probing import Status

from ..api.conftest import add_check
from ..factories import make_server
from ..runner.test_batches import results_refused
from .conftest import add_location, agent_call, batch, result_for

RESULTS = "/api/agent/v1/results"
#: The statements SQLAlchemy sends for a batch in the steady state (the history recorder's own writes go to the
#: driver directly and are not among them): the location; [BEGIN IMMEDIATE on SQLite]; the batch's checks of the
#: location; the batch's id; the checks with their locations, and their servers' maintenance windows; the location rows
#: and the checks written; the two history recorders' savepoints; the location's contact.
STATEMENTS = {"sqlite": 17, "postgresql": 16}
START = datetime.now(timezone.utc) - timedelta(minutes=30)


@pytest.fixture
def busy_location(app):
    """A location probing twenty checks on two servers, and its token."""
    with app.app_context():
        servers = [make_server(code) for code in ("NC040", "NC041")]
        checks = [add_check(server, Status.OK, label=f"SMTP {n}") for server in servers for n in range(10)]
        ids = [check.id for check in checks]
        _, token = add_location("Lusaka", ids)
    return token, ids


def send(client, token: str, number: int, check_ids: list[int]):
    """Batch ``number``: a result of each of ``check_ids``, a minute after the batch before."""
    moment = (START + timedelta(minutes=number)).isoformat()
    results = [result_for(check_id, "OK", checked_at=moment) for check_id in check_ids]
    for item in results:
        item["result"]["summary"] = f"batch {number}"
    return agent_call(client, token, "POST", RESULTS, batch(f"b-{number}", *results))


def summaries() -> dict[int, str]:
    """Each check's latest summary."""
    return {check.id: check.last_result["summary"] for check in db.session.scalars(select(Check))}


def statements_of(app, call) -> list[str]:
    """The statements sent to the database while ``call()`` runs."""
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


def test_a_batch_takes_the_same_few_statements_whatever_it_holds(app, client, busy_location, backend):
    token, ids = busy_location
    assert send(client, token, 0, ids).status_code == 200  # every check's first result from this location
    counts = []
    for number, size in enumerate((1, 5, 20), start=1):
        seen = statements_of(app, lambda: send(client, token, number, ids[:size]))
        counts.append(len(seen))
    assert counts == [STATEMENTS[backend]] * 3, "\n".join(" ".join(statement.split())[:120] for statement in seen)
    with app.app_context():
        assert db.session.scalar(select(func.sum(AgentBatch.results))) == 20 + 1 + 5 + 20
        assert set(summaries().values()) == {"batch 3"}


def test_a_row_the_database_refuses_costs_its_own_result_only(app, client, busy_location, caplog):
    token, ids = busy_location
    with app.app_context():
        with results_refused(db.session.get(Check, ids[3])):
            assert send(client, token, 1, ids).status_code == 200
        assert f"the result of check {ids[3]} cannot be stored" in caplog.text
        assert sorted(check_id for check_id, summary in summaries().items() if summary == "batch 1") \
            == sorted(check_id for check_id in ids if check_id != ids[3])
        # Its location's row took it: the refusal is the check's row's.
        location_id = db.session.scalar(select(AgentBatch.location_id))
        assert db.session.get(CheckLocation, (ids[3], location_id)).last_result["summary"] == "batch 1"
        assert db.session.scalar(select(func.count()).select_from(AgentBatch)) == 1


def test_a_batch_reads_only_its_own_rows(app, client, busy_location, backend):
    if backend != "sqlite":
        pytest.skip("the plans of SQLite's statements are asked")
    token, ids = busy_location
    assert send(client, token, 0, ids).status_code == 200
    seen = statements_of(app, lambda: send(client, token, 1, ids[:2]))
    with app.app_context():
        connection = db.session.connection().connection.driver_connection
        for statement in seen:
            if statement.startswith("SELECT"):
                parameters = [None] * statement.count("?")
                plan = " ".join(str(step[3]) for step in connection.execute(f"EXPLAIN QUERY PLAN {statement}",
                                                                            parameters))
                assert "SCAN" not in plan, (statement, plan)
