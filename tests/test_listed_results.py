"""Listed checks' latest results: read from their stored text once per process, exactly as a check reads its own."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from ninerstatus.checks.listing import read_result, read_servers
from ninerstatus.checks.status import check_state
from ninerstatus.extensions import db
from ninerstatus.probing import ProbeResult, Status
from ninerstatus.timeutil import utcnow

from .factories import make_server
from .history.conftest import add_check, result


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def listed_check():
    [server] = read_servers()
    [check] = server.checks
    return check


def test_a_listed_check_shows_the_result_its_check_shows(ctx):
    check = add_check(make_server("NC036"))
    check.record(result(Status.WARNING, utcnow() - timedelta(seconds=30), latency_ms=42.0))
    db.session.commit()
    listed = listed_check()
    assert listed.result == check.result
    assert listed.result.timings.total == pytest.approx(0.042)
    assert check_state(listed).status is Status.WARNING


def test_a_new_result_is_read_afresh_and_the_same_stored_text_is_read_once(ctx):
    check = add_check(make_server("NC036"))
    check.record(result(Status.OK, utcnow() - timedelta(seconds=90)))
    db.session.commit()
    first, again = listed_check(), listed_check()
    assert first.result is again.result
    check.record(result(Status.CRITICAL, utcnow() - timedelta(seconds=30)))
    db.session.commit()
    assert listed_check().result.status is Status.CRITICAL


@pytest.mark.parametrize("stored", ["not json at all", '"a string"', "[1, 2]", '{"status": "NO SUCH STATUS"}'])
def test_a_stored_result_that_does_not_read_is_unknown_and_says_so_each_time(ctx, backend, stored):
    if backend == "postgresql" and stored == "not json at all":
        pytest.skip("PostgreSQL keeps only JSON in a JSON column")
    check = add_check(make_server("NC036"))
    checked_at = utcnow() - timedelta(seconds=30)
    check.record(result(Status.OK, checked_at))
    db.session.commit()
    db.session.execute(text("UPDATE checks SET last_result = :stored"), {"stored": stored})
    db.session.commit()
    listed = listed_check()
    assert listed.result.status is Status.UNKNOWN
    assert "the stored result cannot be read" in listed.result.summary
    assert listed.result.checked_at == checked_at
    # Not kept: each reading tells the time it is asked with.
    later = checked_at + timedelta(minutes=5)
    assert read_result(listed.last_result_text, later).checked_at == later


@pytest.mark.parametrize("stored", [None, "null", "{}"])
def test_nothing_stored_reads_as_no_result(stored):
    assert read_result(stored, utcnow()) is None


def test_a_readable_result_is_the_result_that_was_stored():
    stored = ProbeResult(Status.WARNING, "certificate 9 days", checked_at=utcnow())
    assert read_result(json.dumps(stored.to_dict()), None) == stored
