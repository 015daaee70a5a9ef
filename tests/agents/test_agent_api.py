"""The agent API answers a location's own agent about its own checks, and refuses everything else."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import event, select

from ninerstatus.agents.models import AgentBatch, CheckLocation, Location
from ninerstatus.agents.signing import signed_headers
from ninerstatus.extensions import db

from .conftest import agent_call, batch, result_for

ASSIGNMENTS, RESULTS = "/api/agent/v1/assignments", "/api/agent/v1/results"


def stored_result(app, location_id: int, check_id: int):
    with app.app_context():
        row = db.session.get(CheckLocation, (check_id, location_id))
        return row.last_result, row.last_checked_at


def test_an_agent_is_told_its_own_checks_only_with_their_settings(client, agent_site):
    response = agent_call(client, agent_site.token, "GET", ASSIGNMENTS)
    assert response.status_code == 200
    document = response.get_json()
    assert document["protocol"] == 1
    assert document["location"]["name"] == "Lusaka" and document["location"]["network"] == "MTN"
    assert [check["id"] for check in document["checks"]] == [agent_site.mine]
    check = document["checks"][0]
    assert check["settings"] == {"username": "probe", "password": "assigned-secret"}
    assert check["target"]["port"] == 587 and check["type"] == "smtp"
    text = response.get_data(as_text=True)
    assert "other-secret" not in text and "IMAP" not in text
    assert response.headers["Cache-Control"] == "no-store"


def test_nothing_is_written_while_an_agents_assignments_are_read(app, client, agent_site, monkeypatch):
    """The agent's contact is written after its checks are read: no batch waits for the write lock meanwhile."""
    from ninerstatus.agents import api

    statements = []
    read = api.assignments_document

    def reading(location, now):
        statements.append("reading")
        document = read(location, now)
        statements.append("read")
        return document

    def executed(_connection, _cursor, statement, *_):
        statements.append(statement.split(None, 1)[0].upper())

    monkeypatch.setattr(api, "assignments_document", reading)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", executed)
    try:
        before = time.time()
        response = agent_call(client, agent_site.token, "GET", ASSIGNMENTS)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    assert response.status_code == 200
    assert [check["id"] for check in response.get_json()["checks"]] == [agent_site.mine]
    while_reading = statements[statements.index("reading"):statements.index("read")]
    assert "SELECT" in while_reading and not {"UPDATE", "INSERT", "DELETE"} & set(while_reading)
    with app.app_context():
        assert db.session.get(Location, agent_site.location_id).last_contact_at.timestamp() >= before - 1


def test_a_batch_is_recorded_once_on_the_site_clock_and_the_agent_is_noted(app, client, agent_site):
    sent_at = time.time() - 30  # the agent's clock is 30 s behind the site's
    body = batch("b-1", result_for(agent_site.mine, "CRITICAL"), sent_at=sent_at)
    body.update(backlog=7, dropped=2, agent_version="9.9.9")
    response = agent_call(client, agent_site.token, "POST", RESULTS, body)
    assert response.status_code == 200 and response.get_json()["accepted"] == 1
    result, checked_at = stored_result(app, agent_site.location_id, agent_site.mine)
    assert result["status"] == "CRITICAL"
    # 10:00:00 on the agent's clock is 10:00:30 on the site's, plus however long the request took.
    shift = (checked_at - datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)).total_seconds()
    assert 30 <= shift < 150
    with app.app_context():
        location = db.session.get(Location, agent_site.location_id)
        assert (location.backlog, location.dropped, location.agent_version) == (7, 2, "9.9.9")
        assert location.clock_offset_seconds == pytest.approx(shift)
        assert location.last_contact_at is not None


def test_a_replayed_batch_is_refused_and_recorded_once(app, client, agent_site):
    body = batch("b-2", result_for(agent_site.mine, "OK", "2026-12-02T10:00:00+00:00"))
    assert agent_call(client, agent_site.token, "POST", RESULTS, body).status_code == 200
    later = batch("b-3", result_for(agent_site.mine, "CRITICAL", "2026-12-02T10:01:00+00:00"))
    assert agent_call(client, agent_site.token, "POST", RESULTS, later).status_code == 200
    again = agent_call(client, agent_site.token, "POST", RESULTS, body)
    assert again.status_code == 409 and again.get_json()["error"] == "duplicate_batch"
    assert stored_result(app, agent_site.location_id, agent_site.mine)[0]["status"] == "CRITICAL"
    with app.app_context():
        assert sorted(db.session.scalars(select(AgentBatch.batch_id))) == ["b-2", "b-3"]


def test_a_batch_for_a_check_that_is_not_the_agents_is_refused_whole(app, client, agent_site):
    body = batch("b-4", result_for(agent_site.mine), result_for(agent_site.theirs))
    response = agent_call(client, agent_site.token, "POST", RESULTS, body)
    assert response.status_code == 403 and response.get_json()["error"] == "not_assigned"
    assert str(agent_site.theirs) in response.get_json()["message"]
    assert stored_result(app, agent_site.location_id, agent_site.mine) == (None, None)
    with app.app_context():
        assert db.session.scalar(select(AgentBatch)) is None


def test_a_revoked_token_is_refused(app, client, agent_site):
    with app.app_context():
        location = db.session.get(Location, agent_site.location_id)
        location.revoked_at = location.created_at
        db.session.commit()
    response = agent_call(client, agent_site.token, "GET", ASSIGNMENTS)
    assert response.status_code == 401 and "revoked" in response.get_json()["message"]


@pytest.mark.parametrize("tamper", [
    {"X-Ninerstatus-Signature": "0" * 64},
    {"X-Ninerstatus-Nonce": "another-nonce"},
    {"Authorization": "Bearer nsa1.0000000000000000.not-the-secret"},
    {"Authorization": ""},
])
def test_a_wrong_signature_or_token_is_refused(client, agent_site, tamper):
    body = batch("b-5", result_for(agent_site.mine))
    response = agent_call(client, agent_site.token, "POST", RESULTS, body, tamper=tamper)
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorised"
    assert "WWW-Authenticate" in response.headers


def test_an_altered_body_is_refused(app, client, agent_site):
    signed = batch("b-6", result_for(agent_site.mine, "OK"))
    headers = signed_headers(agent_site.token, "POST", RESULTS, json.dumps(signed).encode(), time.time())
    altered = json.dumps(batch("b-6", result_for(agent_site.mine, "CRITICAL"))).encode()
    response = client.post(RESULTS, data=altered, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 401
    assert stored_result(app, agent_site.location_id, agent_site.mine) == (None, None)


def test_another_locations_token_does_not_reach_this_locations_checks(client, agent_site):
    response = agent_call(client, agent_site.other_token, "POST", RESULTS, batch("b-7", result_for(agent_site.mine)))
    assert response.status_code == 403


def test_a_timestamp_far_off_is_refused_with_the_sites_time(client, agent_site):
    response = agent_call(client, agent_site.token, "GET", ASSIGNMENTS, now=time.time() - 3600)
    assert response.status_code == 401
    answer = response.get_json()
    assert answer["error"] == "clock" and abs(answer["server_time"] - time.time()) < 600


def test_an_oversized_body_is_refused_before_it_is_read(app, client, agent_site):
    app.config["AGENT_MAX_BODY_BYTES"] = 10_000
    response = agent_call(client, agent_site.token, "POST", RESULTS, raw=b"{" + b" " * 20_000 + b"}")
    assert response.status_code == 413


@pytest.mark.parametrize(("body", "reason"), [
    ({"batch_id": "", "sent_at": 1, "results": []}, "batch_id"),
    ({"batch_id": "x y", "sent_at": 1, "results": []}, "batch_id"),
    ({"batch_id": "ok", "sent_at": "now", "results": []}, "sent_at"),
    ({"batch_id": "ok", "sent_at": 1.0e9, "results": {}}, "results"),
    ({"batch_id": "ok", "sent_at": 1.0e9, "results": [{"check_id": "1"}]}, "check_id"),
    ({"batch_id": "ok", "sent_at": 1.0e9, "results": [{"check_id": 1, "result": {"status": "FINE"}}]}, "results[0]"),
    ({"batch_id": "ok", "sent_at": 1.0e9, "backlog": -1, "results": []}, "backlog"),
    ([], "JSON object"),
])
def test_a_malformed_batch_is_refused_with_the_reason(client, agent_site, body, reason):
    response = agent_call(client, agent_site.token, "POST", RESULTS, body)
    assert response.status_code == 400
    assert reason in response.get_json()["message"]


def test_a_batch_with_too_many_results_is_refused(app, client, agent_site):
    app.config["AGENT_BATCH_MAX_RESULTS"] = 2
    body = batch("b-8", *[result_for(agent_site.mine)] * 3)
    assert agent_call(client, agent_site.token, "POST", RESULTS, body).status_code == 400


def test_an_agent_over_its_rate_is_told_when_to_come_back(app, client, agent_site):
    app.config["AGENT_REQUESTS_PER_MINUTE"] = 3
    answers = [agent_call(client, agent_site.token, "GET", ASSIGNMENTS) for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert int(answers[-1].headers["Retry-After"]) >= 1
