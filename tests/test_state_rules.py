"""The rules behind every server label (docs/states.md): the partial rule, the incident floor, and since when."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import product

import pytest
from sqlalchemy import text

from ninerstatus.checks.models import Check
from ninerstatus.checks.status import (DEGRADED, MAINTENANCE_LABEL, OPERATIONAL, OUTAGE, PARTIAL_OUTAGE, RECORDED,
                                       SEVERITY, UNKNOWN, ServerState, check_state, combined_label, held,
                                       server_state)
from ninerstatus.extensions import db
from ninerstatus.incident_floors import IncidentFloor
from ninerstatus.models import AffectedState, Server, UpdateState
from ninerstatus.probing import ProbeResult, Status
from ninerstatus.runner.maintenance import MaintenanceWindow
from ninerstatus.runner.servers import stale_server_ids, verdict
from ninerstatus.timeutil import utcnow

from .api.conftest import add_update, make_window
from .factories import make_post, make_server

OK, WARNING, CRITICAL, NONE = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


# ------------------------------------------------------------------ the partial rule


@pytest.mark.parametrize("statuses, label", [
    ([OK], OPERATIONAL),
    ([OK, OK, OK], OPERATIONAL),
    ([WARNING], DEGRADED),
    ([OK, WARNING], DEGRADED),
    ([NONE], UNKNOWN),
    ([OK, NONE], UNKNOWN),
    ([WARNING, NONE], DEGRADED),
    ([CRITICAL], OUTAGE),
    ([CRITICAL, CRITICAL], OUTAGE),
    ([OK, CRITICAL], PARTIAL_OUTAGE),
    ([WARNING, CRITICAL], PARTIAL_OUTAGE),
    ([CRITICAL, NONE], PARTIAL_OUTAGE),
    ([OK, OK, CRITICAL], PARTIAL_OUTAGE),
    ([OK, CRITICAL, CRITICAL], PARTIAL_OUTAGE),
    ([], UNKNOWN),
])
def test_the_partial_rule(statuses, label):
    assert combined_label(statuses) == label


@pytest.mark.parametrize("states, recorded", [
    (["ok", "ok"], "ok"),
    (["ok", "warning"], "warning"),
    (["ok", "critical"], "partial_outage"),
    (["critical", "critical"], "critical"),
    (["ok", "unknown"], "unknown"),
    # A state no status names (a hand edit, an older release) is UNKNOWN, never downtime.
    (["critical", "bogus"], "partial_outage"),
    (["ok", "bogus"], "unknown"),
    ([], "unknown"),
])
def test_the_runner_records_what_the_partial_rule_says_in_names_older_rows_share(states, recorded):
    assert verdict(1, states, {}, T0) == recorded
    window = MaintenanceWindow(1, "Kernel update", "kernel-update", T0 - timedelta(minutes=1), T0 + timedelta(hours=1))
    assert verdict(1, states, {1: [window]}, T0) == "maintenance"


def test_recorded_names_keep_the_checks_own_names_where_one_fits():
    assert {RECORDED[label] for label in (OPERATIONAL, DEGRADED, OUTAGE, UNKNOWN)} == {
        status.name.lower() for status in Status}


def test_a_row_recorded_as_an_outage_before_partial_outages_existed_is_brought_up_to_date(ctx):
    server = make_server("NC036")
    for state in ("ok", "critical"):
        db.session.add(Check(server=server, type_name="banner", label=state, host="127.0.0.1", port=25, settings={},
                             state=state, state_since=T0))
    server.state, server.state_since = "critical", T0
    db.session.commit()
    assert stale_server_ids({}, T0) == [server.id]


# ------------------------------------------------------------------ the incident floor


PROBED = [OPERATIONAL, UNKNOWN, DEGRADED, PARTIAL_OUTAGE, OUTAGE, MAINTENANCE_LABEL]
FLOOR_LABEL = {AffectedState.DEGRADED: DEGRADED, AffectedState.PARTIAL_OUTAGE: PARTIAL_OUTAGE,
               AffectedState.MAJOR_OUTAGE: OUTAGE}


@pytest.mark.parametrize("probed, declared", list(product(PROBED, AffectedState)))
def test_a_floor_makes_a_server_at_least_as_bad_and_never_better(probed, declared):
    probe_since, incident_since = T0, T0 + timedelta(minutes=30)
    floor = IncidentFloor(declared, incident_since, "Mail delays", "mail-delays")
    shown = held(ServerState(probed, since=probe_since), floor)
    floor_label = FLOOR_LABEL[declared]
    if probed == MAINTENANCE_LABEL or SEVERITY[floor_label] > SEVERITY[probed]:
        assert (shown.label, shown.since) == (floor_label, incident_since)
    else:
        # The probes are as bad or worse: their label, held since the earlier of the two when they agree.
        assert (shown.label, shown.since) == (probed, probe_since)
    assert shown.incident == floor


def test_without_a_floor_the_probes_alone_decide():
    probed = ServerState(PARTIAL_OUTAGE, since=T0)
    assert held(probed, None) is probed


def test_a_floor_colours_a_server_nothing_probes():
    floor = IncidentFloor(AffectedState.DEGRADED, T0, "Mail delays", "mail-delays")
    shown = held(ServerState(OPERATIONAL, not_probed=True), floor)
    assert (shown.label, shown.css, shown.since) == (DEGRADED, "degraded", T0)


def test_the_worst_of_several_open_incidents_holds_a_server(ctx):
    server = make_server("NC036")
    add_result(server, OK)
    for title, declared, age in (("Slow mail", AffectedState.DEGRADED, 3), ("Mail down", AffectedState.MAJOR_OUTAGE, 1),
                                 ("Mail partly down", AffectedState.PARTIAL_OUTAGE, 2)):
        post = make_post(title, servers=(server,), age=timedelta(hours=age))
        post.affected_state = declared
        add_update(post, UpdateState.INVESTIGATING, "<p>Looking.</p>", timedelta(minutes=30))
    state = server_state(server)
    assert (state.label, state.incident.title) == (OUTAGE, "Mail down")


def test_an_incident_starts_at_its_first_update_when_that_came_before_publication(ctx):
    server = make_server("NC036")
    add_result(server, OK)
    post = make_post("Mail down", servers=(server,), age=timedelta(minutes=10))
    post.affected_state = AffectedState.MAJOR_OUTAGE
    first = add_update(post, UpdateState.INVESTIGATING, "<p>Looking.</p>", timedelta(minutes=40))
    assert server_state(server).since == first.created_at


def test_a_stored_affected_state_no_member_names_holds_as_the_mildest(ctx):
    server = make_server("NC036")
    add_result(server, OK)
    post = make_post("Mail down", servers=(server,))
    add_update(post, UpdateState.INVESTIGATING, "<p>Looking.</p>", timedelta(minutes=30))
    db.session.execute(text("UPDATE posts SET affected_state = 'meltdown'"))
    db.session.commit()
    assert server_state(db.session.get(Server, server.id)).label == DEGRADED


# ------------------------------------------------------------------ since when


def add_result(server: Server, status: Status, *, state: str | None = "same", age: float = 10,
               since: datetime | None = None, interval: int = 60) -> Check:
    """A public check whose latest result is ``status``, ``age`` s old, confirmed as ``state`` since ``since``."""
    checked_at = utcnow() - timedelta(seconds=age)
    check = Check(server=server, type_name="banner", label=f"Check {len(server.checks)}", host="127.0.0.1",
                  port=25, settings={}, interval_seconds=interval)
    check.record(ProbeResult(status, "220 ready", checked_at=checked_at))
    if state is not None:
        check.state = status.name.lower() if state == "same" else state
        check.state_since = since or checked_at - timedelta(minutes=5)
    db.session.add(check)
    db.session.commit()
    return check


def test_a_check_is_down_since_its_confirmed_change(ctx):
    check = add_result(make_server(), CRITICAL, since=utcnow() - timedelta(hours=2))
    shown = check_state(check)
    assert (shown.status, shown.since, shown.says_since) == (CRITICAL, check.state_since, check.state_since)


def test_an_operational_check_says_no_since_and_one_never_judged_knows_none(ctx):
    server = make_server()
    assert check_state(add_result(server, OK)).says_since is None
    assert check_state(add_result(server, CRITICAL, state=None)).since is None


def test_a_stale_check_is_unknown_since_its_last_result(ctx):
    check = add_result(make_server(), OK, age=600)
    shown = check_state(check)
    assert (shown.status, shown.fresh, shown.since, shown.stale_since) == (
        NONE, False, check.last_checked_at, check.last_checked_at)
    assert shown.says_since is None, "a stale check says 'no data since' instead"


def test_a_server_is_in_its_state_since_the_runner_recorded_it(ctx):
    server = make_server()
    add_result(server, OK)
    add_result(server, CRITICAL)
    server.state, server.state_since = "partial_outage", utcnow() - timedelta(minutes=3)
    db.session.commit()
    state = server_state(server)
    assert (state.label, state.since, state.says_since) == (PARTIAL_OUTAGE, server.state_since, server.state_since)


def test_before_the_runner_records_it_a_server_is_in_its_state_since_its_checks_last_changed(ctx):
    server = make_server()
    add_result(server, CRITICAL, since=utcnow() - timedelta(hours=3))
    later = add_result(server, CRITICAL, since=utcnow() - timedelta(hours=1))
    # Recorded as it was before PARTIAL OUTAGE existed, or not at all: the checks tell.
    server.state = "partial_outage"
    db.session.commit()
    assert (server_state(server).label, server_state(server).since) == (OUTAGE, later.state_since)


def test_a_server_without_recent_data_is_unknown_since_the_oldest_last_result(ctx):
    server = make_server()
    oldest = add_result(server, OK, age=900)
    add_result(server, OK, age=600)
    add_result(server, OK)
    state = server_state(server)
    assert (state.label, state.since) == (UNKNOWN, oldest.last_checked_at)


def test_a_server_in_maintenance_is_so_since_its_window_opened(ctx):
    server = make_server()
    add_result(server, CRITICAL)
    window = make_window("Kernel update", (server,), -timedelta(minutes=5), timedelta(hours=1))
    state = server_state(server)
    assert (state.label, state.since, state.under_maintenance) == (MAINTENANCE_LABEL, window.starts_at, True)


def test_the_widget_and_the_server_label_say_since_when_in_utc_for_the_local_hint(ctx, client):
    server = make_server("NC036")
    check = add_result(server, CRITICAL)
    html = client.get("/").get_data(as_text=True)
    since = check.state_since
    expected = f'since <time datetime="{since.isoformat()}" data-local>{since:%H:%M} UTC</time>'
    if since.date() != utcnow().date():  # a test run just after midnight
        expected = expected.replace(f">{since:%H:%M}", f">{since.day} {since:%b %H:%M}")
    assert html.count(expected) == 2, "once for the server, once for its check"


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app
