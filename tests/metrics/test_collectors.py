"""What /metrics reports matches what the database holds: checks, their history, runners and the outbox."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from ninerstatus.extensions import db
from ninerstatus.history.models import HistoryRollup
from ninerstatus.history.recorder import record_result
from ninerstatus.metrics.collectors import SiteCollector
from ninerstatus.models import Visibility
from ninerstatus.notifications.models import Notification
from ninerstatus.probing import ErrorKind, ProbeResult, Status, Timings, TlsInfo
from ninerstatus.runner.models import RunnerHeartbeat
from ninerstatus.timeutil import utcnow

from ..api.conftest import add_check, make_window
from ..factories import make_server
from .scraping import BEARER, TOKEN, Scrape, scrape

#: A moment in the middle of a UTC day, so results around it fall in its daily history row.
NOON = datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def app_config() -> dict:
    return {"METRICS_TOKEN": TOKEN}


def collected(app, now: datetime) -> Scrape:
    """What a scrape at ``now`` reports of the database, through the exposition format and its parser."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SiteCollector(app.config, now))
    return Scrape(generate_latest(registry).decode())


def with_certificate(check, not_after: datetime) -> None:
    """Give ``check``'s latest result a certificate that expires at ``not_after``."""
    check.record(replace(check.result, tls=TlsInfo(version="TLSv1.3", not_after=not_after, verified=True)))
    db.session.commit()


def test_each_enabled_check_reports_up_state_latency_and_certificate(app):
    client = app.test_client()
    with app.app_context():
        mail = make_server("NC036")
        internal = make_server("NC099", visibility=Visibility.INTERNAL)
        ok = add_check(mail, Status.OK, label="Submission", total=0.0123)
        expires = (utcnow() + timedelta(days=30)).replace(microsecond=0)
        with_certificate(ok, expires)
        down = add_check(mail, Status.CRITICAL, "connection refused", label="IMAPS", total=0.004)
        stale = add_check(internal, Status.OK, label="Backup SMTP", age=600)  # three intervals of 60 s passed
        never = add_check(internal, None, label="New check")
        add_check(mail, Status.OK, label="Switched off", enabled=False)
        ids = {name: str(check.id) for name, check in
               (("ok", ok), ("down", down), ("stale", stale), ("never", never))}
        checked_at = ok.last_checked_at.timestamp()

    found = scrape(client)

    assert {s.labels["check"] for s in found.all("ninerstatus_check_up")} == {
        "Submission", "IMAPS", "Backup SMTP", "New check"}
    assert found.value("ninerstatus_check_up", check_id=ids["ok"], check="Submission", type="smtp",
                       server="NC036") == 1
    assert found.value("ninerstatus_check_up", check_id=ids["down"]) == 0
    assert found.value("ninerstatus_check_up", check_id=ids["stale"]) == 0
    assert found.value("ninerstatus_check_up", check_id=ids["never"]) == 0
    assert found.value("ninerstatus_check_state", check_id=ids["ok"], state="ok") == 1
    assert found.value("ninerstatus_check_state", check_id=ids["ok"], state="critical") == 0
    assert found.value("ninerstatus_check_state", check_id=ids["down"], state="critical") == 1
    assert found.value("ninerstatus_check_state", check_id=ids["stale"], state="unknown") == 1
    assert found.value("ninerstatus_check_state", check_id=ids["stale"], state="ok") == 0
    assert found.value("ninerstatus_check_latency_seconds", check_id=ids["ok"]) == pytest.approx(0.0123)
    assert found.value("ninerstatus_check_latency_seconds", check_id=ids["down"]) == pytest.approx(0.004)
    assert found.value("ninerstatus_check_latency_seconds", check_id=ids["never"]) is None
    assert found.value("ninerstatus_check_last_probe_timestamp_seconds", check_id=ids["ok"]) == pytest.approx(
        checked_at)
    assert found.value("ninerstatus_check_certificate_expiry_timestamp_seconds",
                       check_id=ids["ok"]) == expires.timestamp()
    assert found.value("ninerstatus_check_certificate_days_left", check_id=ids["down"]) is None
    assert found.value("ninerstatus_database_up") == 1
    assert found.value("ninerstatus_metrics_rows_skipped") == 0


def test_certificate_days_left_count_from_the_scrape(app):
    with app.app_context():
        check = add_check(make_server(), Status.OK)
        with_certificate(check, NOON + timedelta(days=6, hours=12))
        expired = add_check(make_server("NC037"), Status.CRITICAL, label="Expired")
        with_certificate(expired, NOON - timedelta(days=2))
        found = collected(app, NOON)
    assert found.value("ninerstatus_check_certificate_days_left", check_id=str(check.id)) == 6.5
    assert found.value("ninerstatus_check_certificate_days_left", check_id=str(expired.id)) == -2


def test_response_histogram_holds_the_days_answered_probes_in_exact_buckets(app):
    with app.app_context():
        check = add_check(make_server(), Status.OK)
        for seconds, status, at in ((0.001, Status.OK, NOON - timedelta(hours=3)),
                                    (0.005, Status.OK, NOON - timedelta(hours=2)),
                                    (0.3, Status.WARNING, NOON - timedelta(hours=1)),
                                    (10.0, Status.CRITICAL, NOON - timedelta(minutes=30)),  # timed out
                                    (0.002, Status.OK, NOON - timedelta(days=1))):  # yesterday
            record_result(check, ProbeResult(status, "probed", timings=Timings(total=seconds), checked_at=at,
                                             error_kind=ErrorKind.READ_TIMEOUT if status is Status.CRITICAL
                                             else None), in_maintenance=False)
        db.session.commit()
        found = collected(app, NOON)
    labels = {"check_id": str(check.id), "server": "NC036"}
    bucket = {bound: found.value("ninerstatus_check_response_seconds_bucket", le=bound, **labels)
              for bound in ("0.0016", "0.0032", "0.0064", "0.2048", "0.4096", "26.2144", "+Inf")}
    assert bucket == {"0.0016": 1, "0.0032": 1, "0.0064": 2, "0.2048": 2, "0.4096": 3, "26.2144": 3, "+Inf": 3}
    assert found.value("ninerstatus_check_response_seconds_count", **labels) == 3
    assert found.value("ninerstatus_check_response_seconds_sum", **labels) == pytest.approx(0.306)
    # The next day starts again from nothing, which Prometheus reads as a counter reset.
    assert found.all("ninerstatus_check_response_seconds_count") and not collected_next_day(app, check)


def collected_next_day(app, check) -> list:
    with app.app_context():
        return collected(app, NOON + timedelta(days=1)).all("ninerstatus_check_response_seconds_count",
                                                              check_id=str(check.id))


def test_runner_heartbeats_and_probes_in_flight(app):
    with app.app_context():
        beat = NOON - timedelta(seconds=4)
        db.session.add(RunnerHeartbeat(id="probe1:41:a1b2c3", hostname="probe1", pid=41,
                                       started_at=NOON - timedelta(hours=2), heartbeat_at=beat,
                                       lag_window_seconds=10.0, probes=1667, late_probes=3, late_slow_probes=1,
                                       lag_p99_seconds=0.25, lag_max_seconds=1.5))
        db.session.add(RunnerHeartbeat(id="probe2:7:d4e5f6", hostname="probe2", pid=7, started_at=beat,
                                       heartbeat_at=beat, lag_window_seconds=0.0, probes=0))
        server = make_server()
        leased = [add_check(server, Status.OK, label=f"Check {n}") for n in range(4)]
        for check, owner, until, slow in ((leased[0], "probe1:41:a1b2c3", NOON + timedelta(seconds=20), False),
                                          (leased[1], "probe1:41:a1b2c3", NOON + timedelta(seconds=20), True),
                                          (leased[2], "probe1:41:a1b2c3", NOON - timedelta(seconds=1), False),
                                          (leased[3], "probe2:7:d4e5f6", NOON + timedelta(seconds=5), False)):
            check.lease_owner, check.lease_until, check.slow_lane = owner, until, slow
        db.session.commit()
        found = collected(app, NOON)
    one = {"runner": "probe1:41:a1b2c3", "host": "probe1"}
    assert found.value("ninerstatus_runner_heartbeat_timestamp_seconds", **one) == beat.timestamp()
    assert found.value("ninerstatus_runner_window_seconds", **one) == 10
    assert found.value("ninerstatus_runner_window_probes", **one) == 1667
    assert found.value("ninerstatus_runner_window_late_probes", **one) == 3
    assert found.value("ninerstatus_runner_window_late_slow_probes", **one) == 1
    assert found.value("ninerstatus_runner_lag_p99_seconds", **one) == 0.25
    assert found.value("ninerstatus_runner_lag_max_seconds", **one) == 1.5
    # A runner with no probe in its window has no lag to tell, rather than a lag of 0.
    assert found.value("ninerstatus_runner_lag_p99_seconds", runner="probe2:7:d4e5f6") is None
    assert found.value("ninerstatus_runner_window_probes", runner="probe2:7:d4e5f6") == 0
    assert found.value("ninerstatus_runner_probes_in_flight", runner="probe1:41:a1b2c3", lane="quick") == 1
    assert found.value("ninerstatus_runner_probes_in_flight", runner="probe1:41:a1b2c3", lane="slow") == 1
    assert found.value("ninerstatus_runner_probes_in_flight", runner="probe2:7:d4e5f6", lane="quick") == 1
    assert found.value("ninerstatus_runner_pool_size", lane="quick") == app.config["RUNNER_POOL_SIZE"]


def test_outbox_backlog_by_channel_and_state(app):
    with app.app_context():
        given_up = app.config["NOTIFY_MAX_ATTEMPTS"]
        for channel, attempts, age, sent in (("email", 0, timedelta(minutes=10), False),
                                             ("email", 0, timedelta(minutes=1), False),
                                             ("email", 1, timedelta(minutes=3), True),
                                             ("webhook", 2, timedelta(minutes=30), False),
                                             ("webhook", given_up, timedelta(days=2), False)):
            db.session.add(Notification(channel=channel, payload={}, attempts=attempts, created_at=NOON - age,
                                        sent_at=NOON if sent else None))
        db.session.commit()
        found = collected(app, NOON)
    assert found.value("ninerstatus_notifications_undelivered", channel="email", state="waiting") == 2
    assert found.value("ninerstatus_notifications_undelivered", channel="email", state="retrying") is None
    assert found.value("ninerstatus_notifications_undelivered", channel="webhook", state="retrying") == 1
    assert found.value("ninerstatus_notifications_undelivered", channel="webhook", state="given_up") == 1
    assert found.value("ninerstatus_notifications_oldest_pending_age_seconds", channel="email") == 600
    # The message given up is no longer pending: the oldest the runner still tries is 30 minutes old.
    assert found.value("ninerstatus_notifications_oldest_pending_age_seconds", channel="webhook") == 1800


def test_the_route_reports_the_outbox_and_a_runner_like_the_database(app):
    client = app.test_client()
    with app.app_context():
        db.session.add_all([Notification(channel="email", payload={}) for _ in range(3)])
        db.session.add(RunnerHeartbeat(id="probe1:41:a1b2c3", hostname="probe1", lag_window_seconds=10.0,
                                       probes=50, late_probes=0, late_slow_probes=0, lag_p99_seconds=0.125,
                                       lag_max_seconds=0.5))
        db.session.commit()
    found = scrape(client)
    assert found.value("ninerstatus_notifications_undelivered", channel="email", state="waiting") == 3
    assert found.value("ninerstatus_runner_lag_p99_seconds", runner="probe1:41:a1b2c3") == 0.125


def test_a_row_that_cannot_be_read_is_skipped_and_counted(app):
    with app.app_context():
        good = add_check(make_server(), Status.OK, label="Good")
        spoiled = add_check(make_server("NC037"), Status.OK, label="Spoiled")
        for check in (good, spoiled):
            record_result(check, ProbeResult(Status.OK, "ok", timings=Timings(total=0.01),
                                             checked_at=NOON - timedelta(hours=1)), in_maintenance=False)
        db.session.commit()
        row = db.session.get(HistoryRollup, (spoiled.id, 86400, int((NOON - timedelta(hours=12)).timestamp())))
        row.histogram = b"\x05"  # a bucket index with its count cut off
        unreadable = add_check(make_server("NC038"), Status.OK, label="Unreadable result")
        unreadable.last_result = {"status": "MAYBE"}
        db.session.commit()
        found = collected(app, NOON)
    assert found.value("ninerstatus_check_response_seconds_count", check="Good") == 1
    assert found.value("ninerstatus_check_response_seconds_count", check="Spoiled") is None
    assert found.value("ninerstatus_metrics_rows_skipped") == 1
    # A stored result that cannot be read is an UNKNOWN result, as on every page: the probe did not
    # find the service answering; the state stays the one the runner confirmed.
    assert found.value("ninerstatus_check_up", check="Unreadable result") == 0
    assert found.value("ninerstatus_check_state", check="Unreadable result", state="ok") == 1
    assert found.value("ninerstatus_database_up") == 1


def test_a_database_that_cannot_be_read_is_reported_not_an_error(app, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from ninerstatus.metrics import collectors

    def locked(*_args):
        raise OperationalError("SELECT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(collectors, "runner_families", locked)
    with app.app_context():
        add_check(make_server(), Status.OK, label="Still reported")
    found = scrape(app.test_client())
    assert found.value("ninerstatus_database_up") == 0
    assert found.value("ninerstatus_check_up", check="Still reported") == 1
    assert found.value("ninerstatus_runner_pool_size", lane="quick") is None


def test_values_sqlite_stores_in_the_wrong_type_are_skipped(app, backend):
    if backend == "postgresql":
        pytest.skip("PostgreSQL's typed columns cannot hold these values")
    from sqlalchemy import text

    with app.app_context():
        for runner in ("good:1:aaaaaa", "bad:2:bbbbbb"):
            db.session.add(RunnerHeartbeat(id=runner, hostname=runner[:4], lag_window_seconds=10.0, probes=5,
                                           late_probes=0, late_slow_probes=0, lag_p99_seconds=0.5))
        db.session.commit()
        db.session.execute(text("UPDATE runners SET lag_p99_seconds = 'fast' WHERE id = 'bad:2:bbbbbb'"))
        db.session.add(Notification(channel="email", payload={}))
        db.session.commit()
        db.session.execute(text("UPDATE notifications SET created_at = 'yesterday'"))
        db.session.commit()
        found = collected(app, NOON)
    assert found.value("ninerstatus_runner_lag_p99_seconds", runner="good:1:aaaaaa") == 0.5
    assert found.all("ninerstatus_runner_window_probes", runner="bad:2:bbbbbb") == []
    assert found.all("ninerstatus_notifications_undelivered") == []  # the outbox's query could not be read
    assert found.value("ninerstatus_metrics_rows_skipped") == 2
    assert found.value("ninerstatus_database_up") == 1


def test_a_scraper_that_asks_for_openmetrics_gets_it(app):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

    with app.app_context():
        check_id = str(add_check(make_server(), Status.OK, label="Submission").id)
    answer = app.test_client().get("/metrics", headers={
        **BEARER, "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"})
    assert answer.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    families = {family.name: family for family in openmetrics_families(answer.get_data(as_text=True))}
    [up] = families["ninerstatus_check_up"].samples
    assert (up.labels["check_id"], up.value) == (check_id, 1)


def test_checks_of_a_server_in_an_open_maintenance_window_say_so(app):
    client = app.test_client()
    with app.app_context():
        kernel, other = make_server("NC036"), make_server("NC040")
        in_window = add_check(kernel, Status.CRITICAL, label="Rebooting")
        outside = add_check(other, Status.OK, label="Elsewhere")
        ids = str(in_window.id), str(outside.id)
        make_window("Kernel update", (kernel,), starts_in=timedelta(minutes=-10), lasts=timedelta(hours=1))
        make_window("Later", (other,), starts_in=timedelta(hours=2), lasts=timedelta(hours=1))
    found = scrape(client)
    assert found.value("ninerstatus_check_maintenance", check_id=ids[0]) == 1
    assert found.value("ninerstatus_check_maintenance", check_id=ids[1]) == 0  # announced, not open yet


def test_each_location_reports_what_it_saw_of_each_check_and_its_agents_health(app):
    from ninerstatus.agents.models import CheckLocation, Location

    with app.app_context():
        check = add_check(make_server(), Status.WARNING, "down from one place", label="Web")
        lusaka = Location(name="Lusaka", network="MTN", token_hash="0" * 64, token_id="a" * 32,
                          last_contact_at=NOON - timedelta(seconds=30), backlog=12, dropped=3,
                          clock_offset_seconds=-0.25)
        quiet = Location(name="Quiet", token_hash="1" * 64, token_id="b" * 32, revoked_at=NOON - timedelta(days=1))
        db.session.add_all([Location(name="Site", is_site=True), lusaka, quiet])
        db.session.flush()
        fresh = ProbeResult(Status.CRITICAL, "connection refused", error_kind=ErrorKind.CONNECT_REFUSED,
                            timings=Timings(total=0.002), checked_at=NOON - timedelta(seconds=20))
        stale = ProbeResult(Status.OK, "fine", timings=Timings(total=0.05), checked_at=NOON - timedelta(minutes=10))
        db.session.add_all([
            CheckLocation(check_id=check.id, location_id=lusaka.id, last_result=fresh.to_dict(),
                          last_checked_at=fresh.checked_at, state="critical", state_since=NOON - timedelta(minutes=3)),
            CheckLocation(check_id=check.id, location_id=quiet.id, last_result=stale.to_dict(),
                          last_checked_at=stale.checked_at, state="ok", state_since=NOON - timedelta(hours=1))])
        db.session.commit()
        found = collected(app, NOON)
    one = {"check_id": str(check.id), "check": "Web", "server": "NC036"}
    assert found.value("ninerstatus_check_location_up", location="Lusaka", **one) == 0
    assert found.value("ninerstatus_check_location_state", location="Lusaka", state="critical", **one) == 1
    assert found.value("ninerstatus_check_location_latency_seconds", location="Lusaka", **one) == 0.002
    assert found.value("ninerstatus_check_location_last_probe_timestamp_seconds", location="Lusaka",
                       **one) == fresh.checked_at.timestamp()
    # Ten minutes is over three of the check's 60 s intervals: that location has left the quorum.
    assert found.value("ninerstatus_check_location_up", location="Quiet", **one) == 0
    assert found.value("ninerstatus_check_location_state", location="Quiet", state="unknown", **one) == 1
    assert found.value("ninerstatus_check_location_state", location="Quiet", state="ok", **one) == 0
    assert found.all("ninerstatus_check_location_up", location="Site") == []  # nothing assigned there
    # The check's own series say what all its locations add up to, as the site shows it.
    assert found.value("ninerstatus_check_state", state="warning", **one) == 1
    assert found.value("ninerstatus_location_active", location="Lusaka") == 1
    assert found.value("ninerstatus_location_active", location="Quiet") == 0
    assert found.value("ninerstatus_location_active", location="Site") == 1
    assert found.value("ninerstatus_location_last_contact_timestamp_seconds", location="Lusaka") == (
        NOON - timedelta(seconds=30)).timestamp()
    assert found.value("ninerstatus_location_backlog", location="Lusaka") == 12
    assert found.value("ninerstatus_location_dropped", location="Lusaka") == 3
    assert found.value("ninerstatus_location_clock_offset_seconds", location="Lusaka") == -0.25
    assert found.value("ninerstatus_location_backlog", location="Site") is None
