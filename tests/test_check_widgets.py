"""Live checks on the public site: server states, widgets, and nothing shown that is not known."""
from __future__ import annotations

from datetime import timedelta

import pytest
from jinja2 import ChoiceLoader, DictLoader

from ninerstatus.checks import status
from ninerstatus.checks.models import Check
from ninerstatus.checks.status import server_state, time_ago
from ninerstatus.extensions import db
from ninerstatus.models import Visibility
from ninerstatus.probing import ProbeResult, Status, Timings
from ninerstatus.public import sidebar
from ninerstatus.timeutil import utcnow

from .factories import make_server


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def add_check(server, status: Status | None, summary: str = "", *, label: str = "", age: float = 12,
              total: float = 0.012, visibility: Visibility = Visibility.PUBLIC, enabled: bool = True) -> Check:
    check = Check(server=server, type_name="smtp", label=label, host="127.0.0.1", port=587, settings={},
                  visibility=visibility, enabled=enabled)
    if status is not None:
        check.record(ProbeResult(status, summary, timings=Timings(total=total),
                                 checked_at=utcnow() - timedelta(seconds=age)))
    db.session.add(check)
    db.session.commit()
    return check


def glance_entry(client, code: str) -> str:
    page = client.get("/").get_data(as_text=True)
    glance = page[page.index("Systems at a Glance"):page.index("Recent Posts")]
    start = glance.index(f'href="/servers/{code}"')
    end = glance.find('<li class="server', start)
    return glance[start:end if end != -1 else None]


def test_a_widget_shows_state_latency_age_and_the_key_fact(ctx, client, monkeypatch):
    server = make_server("NC036")
    check = add_check(server, Status.OK, "STARTTLS ok, certificate 62 days", label="Submission", total=0.0123)
    # The page is drawn 12 s after the probe, however long the test itself takes.
    drawn_at = check.last_checked_at + timedelta(seconds=12)
    monkeypatch.setattr(status, "utcnow", lambda: drawn_at)
    entry = glance_entry(client, "NC036")
    assert "OPERATIONAL" in entry
    assert "Submission" in entry and "operational" in entry and "12 ms" in entry
    assert "checked <time" in entry and "12 s ago" in entry
    assert "STARTTLS ok, certificate 62 days" in entry


def test_a_check_type_with_its_own_widget_template_is_drawn_by_it_in_the_sidebar_and_on_its_server_page(
        ctx, client, monkeypatch):
    server = make_server("NC036")
    add_check(server, Status.OK, "STARTTLS ok", label="Submission")
    add_check(server, Status.OK, "IMAP ok", label="Mailbox")
    # A plugin's widget sees the check and the helpers, and may draw the default widget inside its own.
    ctx.jinja_loader = ChoiceLoader([ctx.jinja_loader, DictLoader({"custom/widget.html": (
        '<li class="custom-widget">{{ check.title }}: {{ check_state(check).status.label }}</li>'
        '{% include "checks/widget.html" %}')})])
    monkeypatch.setattr(sidebar, "widget_template",
                        lambda check: "custom/widget.html" if check.label == "Mailbox" else sidebar.DEFAULT_WIDGET)
    entry = glance_entry(client, "NC036")
    server_page = client.get("/servers/NC036").get_data(as_text=True)
    checks = server_page[server_page.index("<h2>Checks</h2>"):server_page.index("Systems at a Glance")]
    for html in (entry, checks):
        assert html.count('<li class="custom-widget">Mailbox: operational</li>') == 1
        assert html.count('<span class="check-name">Submission</span>') == 1
        assert html.count('<span class="check-name">Mailbox</span>') == 1
        assert "STARTTLS ok" in html and "IMAP ok" in html


def test_a_check_without_a_result_says_so_and_never_shows_green(ctx, client):
    server = make_server("NC036")
    add_check(server, Status.OK, "fine")
    add_check(server, None, label="IMAP")
    entry = glance_entry(client, "NC036")
    assert "no result yet" in entry
    assert ">UNKNOWN<" in entry and "OPERATIONAL" not in entry


@pytest.mark.parametrize("statuses, label", [
    ((Status.OK, Status.OK), "OPERATIONAL"),
    ((Status.OK, Status.WARNING), "DEGRADED"),
    ((Status.WARNING, Status.CRITICAL), "PARTIAL OUTAGE"),
    ((Status.OK, Status.UNKNOWN), "UNKNOWN"),
    ((Status.CRITICAL, Status.UNKNOWN), "PARTIAL OUTAGE"),
    ((Status.CRITICAL, Status.CRITICAL), "OUTAGE"),
])
def test_a_server_shows_what_its_public_checks_add_up_to(ctx, statuses, label):
    server = make_server("NC036")
    for status in statuses:
        add_check(server, status, "x")
    add_check(server, Status.CRITICAL, "hidden", visibility=Visibility.INTERNAL)
    add_check(server, Status.CRITICAL, "off", enabled=False)
    assert server_state(server).label == label


def test_internal_servers_show_internal_and_no_detail(ctx, client):
    server = make_server("NC023", Visibility.INTERNAL)
    add_check(server, Status.CRITICAL, "secret banner of an internal host")
    entry = glance_entry(client, "NC023")
    assert "INTERNAL" in entry and "secret banner" not in entry
    assert "secret banner" not in client.get("/servers/NC023").get_data(as_text=True)
    assert client.get("/api/servers/NC023").get_json()["status"] == "internal"


def test_server_text_in_a_result_is_escaped(ctx, client):
    server = make_server("NC036")
    add_check(server, Status.CRITICAL, '<script>alert("banner")</script>')
    page = client.get("/servers/NC036").get_data(as_text=True)
    assert '<script>alert("banner")</script>' not in page
    assert "&lt;script&gt;" in page


def test_public_server_without_checks_stays_operational_as_listed(ctx):
    assert server_state(make_server("NC036")).label == "OPERATIONAL"


def test_time_ago_reads_naturally():
    now = utcnow()
    assert time_ago(now - timedelta(seconds=5), now) == "5 s ago"
    assert time_ago(now - timedelta(minutes=5, seconds=3), now) == "5 min ago"
    assert time_ago(now - timedelta(hours=3), now) == "3 h ago"
    assert time_ago(now - timedelta(days=1), now) == "24 h ago"
    assert time_ago(now - timedelta(days=3), now) == "3 days ago"
    assert time_ago(None, now) == "never"
