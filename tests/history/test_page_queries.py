"""Pages ask the database a fixed number of questions, however many servers, checks and posts they show."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from ninerstatus.checks.status import check_state
from ninerstatus.extensions import db
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from .conftest import add_check, result
from .test_display import write_days

PAGES = ("/", "/servers/NC000", "/api/v2/summary.json", "/api/servers/NC000")


@pytest.fixture
def app_config():
    """The API's few seconds of memory off: every request here is worked out."""
    return {"API_CACHE_SECONDS": 0}


def add_servers(first: int, count: int) -> None:
    """``count`` public servers with two probed checks, a week of history and two tagged posts each."""
    now = utcnow()
    for number in range(first, first + count):
        server = make_server(f"NC{number:03d}", display_order=number)
        for label in ("SMTP", "IMAP"):
            check = add_check(server, label)
            check.record(result(Status.OK, now - timedelta(seconds=30)))
            write_days(check, 7, now=now - timedelta(minutes=30))
        for post in range(2):
            make_post(f"Report {number} {post}", tags=(f"tag {number}", "mail"), servers=(server,),
                      age=timedelta(hours=number * 2 + post + 1))
    db.session.commit()


def statements(app, client) -> dict[str, int]:
    """How many SQL statements each page sends, each request in an application context of its own as in production."""
    with app.app_context():
        engine = db.engine
    counts = {}
    for path in PAGES:
        seen = []

        def count(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts[path] = len(seen)
    return counts


def test_no_page_asks_once_per_server_or_post(app, client):
    with app.app_context():
        add_servers(0, 2)
    few = statements(app, client)
    with app.app_context():
        add_servers(2, 4)
    assert statements(app, client) == few
    # The home page: servers and their checks, every strip, posts listed with their servers, tags
    # and updates, the count for the pager, recent posts, the tag cloud, the states open incidents
    # hold servers in; and, on every public page, the status summary: public servers with their
    # checks, open incidents and maintenance windows with their servers and updates.
    assert few["/"] <= 17
    # A server page adds the server, its checks' first results, its uptime figures and its sparklines.
    assert few["/servers/NC000"] <= 21


def test_a_result_recorded_during_a_request_is_read_afresh(ctx, app):
    check = add_check(make_server("NC000"))
    check.record(result(Status.OK, utcnow()))
    with app.test_request_context("/"):
        assert check_state(check).status is Status.OK
        check.record(result(Status.CRITICAL, utcnow()))
        assert check_state(check).status is Status.CRITICAL
