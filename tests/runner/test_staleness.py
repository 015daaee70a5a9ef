"""Status that never lies: read when a page is drawn, stale results turn UNKNOWN with no runner alive."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.checks.status import check_state, server_state
from ninerstatus.extensions import db
from ninerstatus.probing import ProbeResult, Status
from ninerstatus.timeutil import utcnow

from ..factories import make_server


def confirmed_check(server, state: Status, *, age: float, interval: int = 60, latest: Status | None = None):
    """A check the runner judged ``state``, whose latest result (``latest``, default the same) is ``age`` s old."""
    when = utcnow() - timedelta(seconds=age)
    check = Check(server=server, type_name="banner", label="Banner", host="127.0.0.1", port=2525, settings={},
                  interval_seconds=interval, state=state.name.lower(), state_since=when - timedelta(hours=1))
    check.record(ProbeResult(latest or state, "220 ready", checked_at=when))
    db.session.add(check)
    db.session.commit()
    return check


def glance_entry(client, code: str) -> str:
    page = client.get("/").get_data(as_text=True)
    start = page.index(f'href="/servers/{code}"')
    return page[start:page.index("</li>", page.index("check-name", start))]


@pytest.mark.parametrize("age", [10, 179])
def test_a_result_within_three_intervals_shows_the_confirmed_state(ctx, age):
    check = confirmed_check(make_server(), Status.OK, age=age)
    assert check_state(check).status is Status.OK
    assert server_state(check.server).label == "OPERATIONAL"


def test_no_result_for_three_intervals_is_unknown_with_no_data_since(ctx, client):
    server = make_server("NC036")
    check = confirmed_check(server, Status.OK, age=181)
    shown = check_state(check)
    assert shown.status is Status.UNKNOWN and shown.stale_since == check.last_checked_at
    assert server_state(server).label == "UNKNOWN"
    entry = glance_entry(client, "NC036")
    assert "OPERATIONAL" not in entry and "operational" not in entry
    assert "no data since" in entry and f"{check.last_checked_at:%H:%M} UTC" in entry
    assert "220 ready" not in entry  # a stale fact is not shown as today's


def test_a_stale_outage_is_unknown_too_not_a_current_outage(ctx):
    check = confirmed_check(make_server(), Status.CRITICAL, age=3600)
    assert check_state(check).status is Status.UNKNOWN


def test_staleness_follows_each_checks_own_interval(ctx):
    server = make_server()
    slow = confirmed_check(server, Status.OK, age=600, interval=300)
    fast = confirmed_check(server, Status.OK, age=600, interval=60)
    assert check_state(slow).status is Status.OK
    assert check_state(fast).status is Status.UNKNOWN


def test_an_unconfirmed_failure_shows_the_confirmed_state_marked_unconfirmed(ctx, client):
    confirmed_check(make_server("NC036"), Status.OK, age=5, latest=Status.CRITICAL)
    entry = glance_entry(client, "NC036")
    assert "OPERATIONAL" in entry and "220 ready (unconfirmed)" in entry

