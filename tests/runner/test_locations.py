"""Results recorded per location and combined by quorum into the check's state, events, history and server."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from ninerstatus.agents.locations import revoke_token, site_location
from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.raw import read_samples
from ninerstatus.models import Server
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, ProbeResult, Status
from ninerstatus.runner.claims import Claim
from ninerstatus.runner.models import StatusEvent
from ninerstatus.runner.results import Outcome, record_located, record_results
from ninerstatus.runner.transactions import write_transaction

from ..agents.conftest import add_location
from ..factories import make_server

T0 = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)
OK, WARN, CRIT, UNKNOWN = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def result(status: Status, minutes: float, summary: str | None = None) -> ProbeResult:
    summary = summary or ("connection timed out on port 587" if status is CRIT else "STARTTLS ok")
    return ProbeResult(status, summary, checked_at=at(minutes),
                       error_kind=ErrorKind.CONNECT_TIMEOUT if status is CRIT else None)


@pytest.fixture
def site(app):
    """A check of NC036 probed by the site's runner and by agents in Lusaka (MTN) and Frankfurt."""
    with app.app_context():
        server = make_server("NC036")
        check = Check(server=server, type_name="smtp", label="Submission", host="mail.example.net", port=587,
                      interval_seconds=60, failures_before_down=2, successes_before_up=1)
        db.session.add(check)
        db.session.commit()
        site_location()
        lusaka, _ = add_location("Lusaka", [check.id], network="MTN")
        frankfurt, _ = add_location("Frankfurt", [check.id])
        yield {"check": check.id, "server": server.id, "lusaka": lusaka.id, "frankfurt": frankfurt.id}


def from_site(check_id: int, status: Status, minutes: float, **kw) -> None:
    outcome = Outcome(Claim(check_id, at(minutes), 10.0), result(status, minutes, **kw), False)
    record_results("test-runner", [outcome], get_plugins(), at(minutes))


def from_agent(location_id: int, check_id: int, *results: ProbeResult) -> None:
    with write_transaction():
        record_located(db.session.get(Location, location_id), [(check_id, item) for item in results], get_plugins(),
                       max(item.checked_at for item in results))


def round_of(ids, minutes: float, site: Status, lusaka: Status, frankfurt: Status) -> None:
    """Each location probes the check once at ``minutes``."""
    from_agent(ids["lusaka"], ids["check"], result(lusaka, minutes))
    from_agent(ids["frankfurt"], ids["check"], result(frankfurt, minutes + 0.1))
    from_site(ids["check"], site, minutes + 0.2)


def check_of(ids) -> Check:
    db.session.rollback()
    return db.session.get(Check, ids["check"])


def located_states(ids) -> dict[str, str]:
    db.session.rollback()
    rows = db.session.execute(select(Location.name, CheckLocation.state).join(Location)
                              .where(CheckLocation.check_id == ids["check"]))
    return dict(rows.all())


def test_one_location_failing_is_regional_and_named_never_an_outage(site):
    round_of(site, 0, OK, OK, OK)
    assert check_of(site).state == "ok"
    assert check_of(site).result.summary == "Reachable from 3 of 3 locations. STARTTLS ok"
    round_of(site, 1, OK, CRIT, OK)
    # Lusaka's first failure is not confirmed yet (two in a row are needed), but the result says so.
    check = check_of(site)
    assert check.state == "ok" and check.result.status is WARN
    round_of(site, 2, OK, CRIT, OK)
    check = check_of(site)
    assert located_states(site)["Lusaka"] == "critical"
    assert check.state == "warning"
    assert check.result.summary == ("Reachable from 2 of 3 locations. From Lusaka (MTN): connection timed out on "
                                    "port 587 since 10:02 UTC.")
    assert db.session.get(Server, site["server"]).state == "warning"


def test_a_quorum_of_locations_failing_is_an_outage_and_one_event(site):
    for minute in (0, 1, 2):
        round_of(site, minute, OK, CRIT, CRIT)
    check = check_of(site)
    assert check.state == "critical"
    assert check.result.summary.startswith("Reachable from 1 of 3 locations. From Frankfurt: connection timed out")
    assert "From Lusaka (MTN): connection timed out on port 587 since 10:01 UTC." in check.result.summary
    events = db.session.scalars(select(StatusEvent).where(StatusEvent.check_id == site["check"])
                                .order_by(StatusEvent.occurred_at)).all()
    assert [(event.previous, event.current) for event in events] == [("unknown", "ok"), ("ok", "warning"),
                                                                    ("warning", "critical")]
    # Lusaka's second failure made it regional; Frankfurt's, a moment later, made it down.
    assert [event.occurred_at for event in events[1:]] == [at(1), at(1.1)]
    assert db.session.get(Server, site["server"]).state == "critical"


def test_the_check_quorum_setting_decides(site):
    db.session.get(Check, site["check"]).quorum = 1
    db.session.commit()
    for minute in (0, 1):
        round_of(site, minute, OK, CRIT, OK)
    assert check_of(site).state == "critical"


def test_a_silent_location_leaves_the_quorum_and_never_takes_the_check_down(site):
    round_of(site, 0, OK, OK, OK)
    for minute in (1, 2):
        round_of(site, minute, OK, CRIT, OK)
    assert check_of(site).state == "warning"
    # Lusaka falls silent: three intervals later it no longer counts, and the check is OK again.
    for minute in (3, 4, 5, 6):
        from_agent(site["frankfurt"], site["check"], result(OK, minute))
        from_site(site["check"], OK, minute + 0.2)
    check = check_of(site)
    assert check.state == "ok"
    assert check.result.summary == "Reachable from 2 of 2 locations. STARTTLS ok"


def test_an_agent_batch_replayed_late_is_damped_in_order(site):
    round_of(site, 0, OK, OK, OK)
    from_site(site["check"], OK, 1)
    from_agent(site["frankfurt"], site["check"], result(OK, 1))
    # Lusaka's spool arrives at once: a failure confirmed, then a recovery.
    from_agent(site["lusaka"], site["check"], result(CRIT, 1.5), result(CRIT, 0.5), result(OK, 2.5))
    events = db.session.scalars(select(StatusEvent).where(StatusEvent.check_id == site["check"])
                                .order_by(StatusEvent.occurred_at)).all()
    assert [(event.current, event.occurred_at) for event in events] == [("ok", at(0)), ("warning", at(1.5)),
                                                                        ("ok", at(2.5))]
    assert check_of(site).state == "ok"


def test_history_keeps_what_the_locations_add_up_to(site):
    round_of(site, 0, OK, CRIT, OK)
    round_of(site, 1, CRIT, CRIT, CRIT)
    samples = read_samples([site["check"]])
    assert [sample.status for sample in samples] == [CRIT, WARN, WARN, WARN, CRIT, CRIT]


def test_a_site_without_agents_records_exactly_what_its_runner_saw(app):
    with app.app_context():
        server = make_server("NC031")
        check = Check(server=server, type_name="smtp", host="mail.example.net", port=587, interval_seconds=60)
        db.session.add(check)
        db.session.commit()
        from_site(check.id, CRIT, 0, summary="connection refused")
        from_site(check.id, CRIT, 1, summary="connection refused")
        check = db.session.get(Check, check.id)
        assert (check.state, check.state_since, check.result.summary) == ("critical", at(1), "connection refused")
        site_row = db.session.scalars(select(CheckLocation).where(CheckLocation.check_id == check.id)).one()
        assert (site_row.state, site_row.consecutive_failures) == ("critical", 2)


def test_a_revoked_location_no_longer_counts(site):
    for minute in (0, 1):
        round_of(site, minute, OK, CRIT, CRIT)
    assert check_of(site).state == "critical"
    revoke_token(db.session.get(Location, site["frankfurt"]), at(2))
    db.session.commit()
    from_site(site["check"], OK, 2)
    check = check_of(site)
    assert check.state == "warning" and "Frankfurt" not in check.result.summary


def test_a_location_row_spoiled_by_hand_gives_no_opinion_and_stops_nothing(site):
    round_of(site, 0, OK, OK, OK)
    db.session.execute(text("UPDATE check_locations SET state = 'exploded', last_result = '{\"x\": 1}' "
                            "WHERE location_id = :id"), {"id": site["lusaka"]})
    db.session.commit()
    for minute in (1, 2):
        from_agent(site["frankfurt"], site["check"], result(CRIT, minute))
        from_site(site["check"], OK, minute + 0.2)
    check = check_of(site)
    # Lusaka's unreadable result is UNKNOWN and its state no status: the two others decide (1 of 2 failing).
    assert check.state == "warning"
    assert check.result.summary.startswith("Reachable from 1 of 2 locations. From Frankfurt")


def test_the_site_runner_joining_an_agent_reads_what_the_agent_saw(site):
    revoke_token(db.session.get(Location, site["frankfurt"]), T0)
    db.session.commit()
    for minute in (0, 1):
        from_agent(site["lusaka"], site["check"], result(CRIT, minute))
    # The site's runner has no row of this check yet: its first result is combined with Lusaka's stored one.
    from_site(site["check"], OK, 1.5)
    check = check_of(site)
    assert check.state == "warning"
    assert check.result.summary.startswith("Reachable from 1 of 2 locations. From Lusaka (MTN)")
