"""widgets.js in a real browser: server states and check widgets follow the API every 30 s, under the site's CSP."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from ninerstatus.checks.models import Check
from ninerstatus.checks.status import short_time
from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, PostUpdate, Server, UpdateState
from ninerstatus.probing import ErrorKind, ProbeResult, Status, Timings
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from .conftest import watch

pytestmark = pytest.mark.browser


def probe_result(site, status: Status, summary: str, *, age: float = 5) -> None:
    """Store what the runner would: the check's latest result and its confirmed state."""
    with site.app.app_context():
        check = db.session.scalar(db.select(Check).order_by(Check.id))
        checked_at = utcnow() - timedelta(seconds=age)
        check.record(ProbeResult(status, summary, timings=Timings(total=0.021), checked_at=checked_at,
                                 error_kind=None if status is Status.OK else ErrorKind.CONNECT_REFUSED))
        check.state, check.state_since = status.name.lower(), checked_at
        db.session.commit()


@pytest.fixture
def mail_server(live_site):
    """NC036 with one public check, operational; the API works out each answer afresh."""
    live_site.app.config["API_CACHE_SECONDS"] = 0
    with live_site.app.app_context():
        server = make_server("NC036")
        db.session.add(Check(server=server, type_name="banner", label="Submission", host="127.0.0.1", port=2525,
                             settings={}, interval_seconds=60))
        db.session.commit()
    probe_result(live_site, Status.OK, "STARTTLS ok")
    return live_site


def test_the_sidebar_and_server_page_follow_the_api_every_30_seconds(page, mail_server):
    problems = watch(page)
    page.clock.install()
    for path in ("/", "/servers/NC036"):
        page.goto(f"{mail_server.url}{path}")
        box = page.locator(".glance li.server") if path == "/" else page.locator(".server-facts")
        check = page.locator(".glance li.check" if path == "/" else "ul.checks-wide li.check")
        expect(box.locator(".state")).to_have_text("OPERATIONAL")
        probe_result(mail_server, Status.CRITICAL, "connection refused")
        page.clock.run_for(25_000)
        expect(box.locator(".state")).to_have_text("OPERATIONAL")
        page.clock.run_for(6_000)
        expect(box.locator(".state")).to_have_text("OUTAGE")
        expect(box).to_have_class("server status-outage" if path == "/" else "server-facts status-outage")
        # Since when, in UTC, marked for the page's local-time hint.
        since = box.locator(".state-since time[data-local]")
        expect(since).to_have_text(re.compile(r"^\d\d:\d\d UTC$"))
        expect(check.locator(".check-since time[data-local]")).to_have_text(since.text_content())
        expect(check).to_have_class("check status-outage")
        expect(check.locator(".check-state")).to_have_text("outage")
        expect(check.locator(".check-fact")).to_have_text("connection refused")
        expect(check.locator(".check-latency")).to_have_text("21 ms")
        probe_result(mail_server, Status.OK, "STARTTLS ok")
    assert problems.console_errors == [] and problems.page_errors == []


def test_a_check_whose_runner_went_quiet_turns_unknown_without_a_reload(page, mail_server):
    page.clock.install()
    page.goto(mail_server.url)
    check = page.locator(".glance li.check")
    expect(check.locator(".check-age")).to_contain_text("checked")
    probe_result(mail_server, Status.OK, "STARTTLS ok", age=600)
    page.clock.run_for(31_000)
    expect(page.locator(".glance li.server .state")).to_have_text("UNKNOWN")
    expect(check).to_have_class("check status-nodata")
    expect(check.locator(".check-age")).to_contain_text("no data since")
    expect(check.locator(".check-fact")).to_be_hidden()
    probe_result(mail_server, Status.OK, "STARTTLS ok", age=1)
    page.clock.run_for(31_000)
    expect(check.locator(".check-age")).to_contain_text("checked")
    expect(check.locator(".check-fact")).to_have_text("STARTTLS ok")


def test_ages_count_on_between_refreshes(page, mail_server):
    page.clock.install()
    page.goto(mail_server.url)
    age = page.locator(".glance li.check .check-age time")
    page.clock.run_for(125_000)
    expect(age).to_have_text("2 min ago")


def test_pages_without_servers_never_ask_the_api(page, live_site):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.clock.install()
    page.goto(f"{live_site.url}/admin/login")
    page.clock.run_for(61_000)
    assert not [url for url in requests if "/api/" in url]


def test_a_partial_outage_and_an_open_incident_reach_the_page_without_a_reload(page, mail_server):
    with mail_server.app.app_context():
        server = db.session.scalar(db.select(Server))
        webmail = Check(server=server, type_name="banner", label="Webmail", host="127.0.0.1", port=2526,
                        settings={}, interval_seconds=60)
        webmail.record(ProbeResult(Status.OK, "200 OK", checked_at=utcnow()))
        webmail.state, webmail.state_since = "ok", utcnow()
        db.session.add(webmail)
        db.session.commit()
    page.clock.install()
    page.goto(mail_server.url)
    box = page.locator(".glance li.server")
    expect(box.locator(".state")).to_have_text("OPERATIONAL")
    expect(box.locator(".state-since")).to_be_hidden()

    probe_result(mail_server, Status.CRITICAL, "connection refused")
    page.clock.run_for(31_000)
    expect(box.locator(".state")).to_have_text("PARTIAL OUTAGE")
    expect(box).to_have_class("server status-partial-outage")
    expect(box.locator(".state-since time[data-local]")).to_have_text(re.compile(r"^\d\d:\d\d UTC$"))

    probe_result(mail_server, Status.OK, "STARTTLS ok")
    with mail_server.app.app_context():
        incident = make_post("Mail down", servers=(db.session.scalar(db.select(Server)),), age=timedelta(minutes=90))
        incident.affected_state = AffectedState.MAJOR_OUTAGE
        update = PostUpdate(state=UpdateState.INVESTIGATING, created_at=utcnow())
        update.set_body("<p>Looking.</p>")
        incident.updates.append(update)
        db.session.commit()
        started = short_time(incident.published_at)
    page.clock.run_for(31_000)
    expect(box.locator(".state")).to_have_text("OUTAGE")
    expect(box).to_have_class("server status-outage")
    expect(box.locator(".state-since time[data-local]")).to_have_text(started)
    # The checks still say what the probes saw.
    expect(page.locator(".glance li.check .check-state")).to_have_text(["operational", "operational"])
