"""/api/servers and /api/servers/<code>: each public check's last result, and uptime from history."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.extensions import db
from ninerstatus.history.recorder import record_result
from ninerstatus.models import Visibility
from ninerstatus.probing import ProbeResult, Status
from ninerstatus.timeutil import utcnow

from ..factories import make_server
from .conftest import add_check, make_window


def listed(client) -> dict[str, dict]:
    return {s["code"]: s for s in client.get("/api/servers").get_json()["servers"]}


def test_a_public_server_lists_its_public_checks_as_their_widgets_show_them(ctx, client):
    server = make_server("NC036")
    add_check(server, Status.OK, "STARTTLS ok, certificate 62 days", label="Submission", age=12, total=0.0123)
    add_check(server, Status.CRITICAL, "hidden", visibility=Visibility.INTERNAL)
    entry = listed(client)["NC036"]
    assert (entry["status"], entry["label"], entry["maintenance"]) == ("operational", "OPERATIONAL", None)
    [check] = entry["checks"]
    assert (check["name"], check["type"], check["status"], check["fresh"]) == ("Submission", "smtp", "operational",
                                                                                True)
    assert (check["summary"], check["latency_ms"]) == ("STARTTLS ok, certificate 62 days", 12)
    assert "uptime" not in check, "the list stays cheap; uptime is on each server's own document"


def test_a_check_without_recent_data_says_since_when_and_gives_no_latency(ctx, client):
    add_check(make_server("NC036"), Status.OK, "fine", age=600)
    [check] = listed(client)["NC036"]["checks"]
    assert (check["status"], check["fresh"], check["latency_ms"]) == ("unknown", False, None)
    assert check["summary"].startswith("no data since ")
    assert check["checked_at"] is not None


def test_an_internal_server_says_only_that_it_is_internal(ctx, client):
    server = make_server("NC023", Visibility.INTERNAL)
    add_check(server, Status.CRITICAL, "secret banner")
    for entry in (listed(client)["NC023"], client.get("/api/servers/NC023").get_json()):
        assert entry == {"code": "NC023", "role": "Mail server", "city": "Amsterdam", "country": "Netherlands",
                         "status": "internal", "label": "INTERNAL", "url": "http://status.test/servers/NC023"}


def test_a_server_in_a_window_names_its_maintenance(ctx, client):
    server = make_server("NC036")
    post = make_window("Kernel update", (server,), -timedelta(minutes=5), timedelta(hours=1))
    entry = client.get("/api/servers/NC036").get_json()
    assert (entry["status"], entry["label"]) == ("under maintenance", "UNDER MAINTENANCE")
    assert entry["maintenance"]["name"] == "Kernel update" and entry["maintenance"]["in_progress"] is True
    assert entry["maintenance"]["url"] == f"http://status.test/posts/{post.slug}"


def test_a_server_document_gives_uptime_of_the_server_and_each_check(ctx, client):
    server = make_server("NC036")
    smtp = add_check(server, Status.OK, label="SMTP")
    imap = add_check(server, Status.OK, label="IMAP")
    now = utcnow()
    for minutes, check, status in [(50, smtp, Status.OK), (40, smtp, Status.OK), (30, smtp, Status.OK),
                                   (20, smtp, Status.CRITICAL), (50, imap, Status.OK), (40, imap, Status.OK)]:
        record_result(check, ProbeResult(status, status.label, checked_at=now - timedelta(minutes=minutes)),
                      in_maintenance=False)
    db.session.commit()
    entry = client.get("/api/servers/NC036").get_json()
    assert entry["uptime"]["24h"] == pytest.approx(5 / 6)
    assert entry["uptime"]["90d"] == pytest.approx(5 / 6)
    by_name = {check["name"]: check["uptime"] for check in entry["checks"]}
    assert by_name["SMTP"]["24h"] == pytest.approx(0.75) and by_name["IMAP"]["7d"] == 1.0


def test_a_server_never_measured_has_no_uptime_rather_than_0_or_100_percent(ctx, client):
    make_server("NC036")
    uptime = client.get("/api/servers/NC036").get_json()["uptime"]
    assert {key: uptime[key] for key in ("24h", "7d", "30d", "90d")} == {"24h": None, "7d": None, "30d": None,
                                                                         "90d": None}


def test_an_unknown_code_is_a_json_404(ctx, client):
    response = client.get("/api/servers/NC999")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == 404
