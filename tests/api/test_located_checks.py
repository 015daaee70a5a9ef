"""/api/servers: what each location saw last of a check probed from several; Statuspage follows the combined state."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from ninerstatus.extensions import db
from ninerstatus.probing import Status

from ..factories import make_server
from ..regional_site import TIMED_OUT, make_regional_site
from .conftest import add_check, assert_shape

#: The fields a check had before locations existed: kept as they were for existing readers.
CHECK_FIELDS = {"id", "name", "type", "status", "fresh", "since", "summary", "checked_at", "latency_ms"}


def checks_of(document: dict) -> dict[str, dict]:
    return {check["name"]: check for check in document["checks"]}


def test_a_check_probed_from_several_locations_lists_what_each_saw(app, client):
    with app.app_context():
        site = make_regional_site()
    for document in (client.get("/api/servers/NC036").get_json(),
                     next(s for s in client.get("/api/servers").get_json()["servers"] if s["code"] == "NC036")):
        submission = checks_of(document)["Submission"]
        assert set(submission) - CHECK_FIELDS - {"uptime"} == {"locations"}
        assert (submission["status"], submission["summary"].split(" From")[0]) == (
            "degraded", "Reachable from 2 of 3 locations.")
        locations = {entry["name"]: entry for entry in submission["locations"]}
        assert list(locations) == [app.config["SITE_NAME"], "Frankfurt", "Lusaka", "Nairobi"]
        lusaka = locations["Lusaka"]
        assert (lusaka["id"], locations["Frankfurt"]["id"]) == (site.lusaka, site.frankfurt)
        assert {key: lusaka[key] for key in ("city", "country", "network", "status", "summary", "fresh")} == {
            "city": "Lusaka", "country": "Zambia", "network": "MTN", "status": "outage", "summary": TIMED_OUT,
            "fresh": True}
        moment = datetime.fromisoformat(lusaka["checked_at"])
        assert abs(moment - (site.now - timedelta(minutes=1))) < timedelta(milliseconds=1)
        # Silent for ten minutes: Nairobi has left the quorum, and says so rather than its old status.
        assert (locations["Nairobi"]["status"], locations["Nairobi"]["fresh"]) == ("unknown", False)
        assert [entry["name"] for entry in checks_of(document)["IMAP"]["locations"]] == [
            app.config["SITE_NAME"], "Frankfurt"]
    assert_shape(client.get("/api/servers").get_json(), "servers_document")
    assert_shape(client.get("/api/servers/NC036").get_json(), "server")


def test_a_check_probed_from_one_location_lists_none(ctx, client):
    add_check(make_server("NC031"), Status.OK, "STARTTLS ok", label="Submission")
    [check] = client.get("/api/servers/NC031").get_json()["checks"]
    assert check["locations"] == [] and set(check) - CHECK_FIELDS - {"uptime"} == {"locations"}


def test_an_unreadable_location_row_is_unknown_in_the_api_too(app, client):
    with app.app_context():
        site = make_regional_site()
        db.session.execute(text("UPDATE check_locations SET last_result = '[1, 2]' WHERE location_id = :id"),
                           {"id": site.lusaka})
        db.session.commit()
    submission = checks_of(client.get("/api/servers/NC036").get_json())["Submission"]
    lusaka = next(entry for entry in submission["locations"] if entry["name"] == "Lusaka")
    assert (lusaka["status"], lusaka["summary"]) == ("unknown", "unreadable result")


def test_statuspage_follows_the_combined_state_of_a_regional_problem(app, client):
    with app.app_context():
        make_regional_site()
    component = next(c for c in client.get("/api/v2/components.json").get_json()["components"]
                     if c["name"] == "NC036")
    assert (component["status"], component["label"]) == ("degraded_performance", "DEGRADED")
    assert client.get("/api/v2/status.json").get_json()["status"]["indicator"] == "minor"


def test_statuspage_shows_an_outage_when_a_quorum_of_locations_fails(app, client):
    with app.app_context():
        make_regional_site(frankfurt_status=Status.CRITICAL)
    component = next(c for c in client.get("/api/v2/components.json").get_json()["components"]
                     if c["name"] == "NC036")
    # Submission is down from a quorum (2 of 3), IMAP works: the server is partly down.
    assert (component["status"], component["label"]) == ("partial_outage", "PARTIAL OUTAGE")
