"""A server page's location by service grid: each location's latest result of each public check, and its age."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from ninerstatus.agents.locations import revoke_token
from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Visibility
from ninerstatus.probing import Status

from .factories import make_server
from .regional_site import TIMED_OUT, add_agent, from_agent, from_site, make_regional_site


@pytest.fixture
def app_config():
    """Every page drawn afresh: a test changes rows between two requests."""
    return {"PAGE_CACHE_SECONDS": 0, "SIDEBAR_CACHE_SECONDS": 0}


def grid_of(client, code: str = "NC036") -> list[list[str]]:
    """The grid's rows as visitors read them: each cell's text, spaces folded."""
    html = client.get(f"/servers/{code}").get_data(as_text=True)
    match = re.search(r'<div class="location-grid".*?</table>', html, re.S)
    if match is None:
        return []
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", match.group(0), re.S)
    return [[" ".join(re.sub(r"<[^>]+>", " ", cell).split())
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)] for row in rows]


def cell_classes(client, code: str = "NC036") -> list[str]:
    html = client.get(f"/servers/{code}").get_data(as_text=True)
    return re.findall(r'<td class="([^"]+)"', html)


def test_each_location_shows_its_latest_result_of_each_check_with_its_age(app, client):
    with app.app_context():
        make_regional_site()
    header, site, frankfurt, lusaka, nairobi = grid_of(client)
    assert header == ["Location", "Submission", "IMAP"]
    assert site[0] == app.config["SITE_NAME"]
    assert frankfurt[0] == "Frankfurt (Hetzner) Frankfurt, Germany"
    assert re.fullmatch(r"operational STARTTLS ok \d+ s ago", frankfurt[1])
    assert lusaka[0] == "Lusaka (MTN) Lusaka, Zambia"
    assert re.fullmatch(rf"outage {TIMED_OUT} 1 min ago", lusaka[1])
    # Lusaka does not probe IMAP; Nairobi's agent has been silent for ten minutes.
    assert lusaka[2] == nairobi[2] == "—"
    assert nairobi[1] == "no recent result STARTTLS ok 10 min ago"
    assert cell_classes(client) == ["located status-operational"] * 4 + [
        "located status-outage", "cell-none", "located status-nodata", "cell-none"]


def test_a_site_without_agents_shows_no_grid(app, client):
    with app.app_context():
        server = make_server("NC031")
        check = Check(server=server, type_name="smtp", label="Submission", host="mail.example.net", port=587,
                      interval_seconds=60)
        db.session.add(check)
        db.session.commit()
        from_site(check.id, Status.OK, check.created_at + timedelta(seconds=1))
        assert db.session.query(CheckLocation).count() == 1
    page = client.get("/servers/NC031").get_data(as_text=True)
    assert "location-grid" not in page and "From each location" not in page


def test_a_revoked_location_leaves_the_grid_and_one_location_left_leaves_no_grid(app, client):
    with app.app_context():
        site = make_regional_site()
        for location_id in (site.lusaka, site.nairobi):
            revoke_token(db.session.get(Location, location_id), site.now)
        db.session.commit()
    assert [row[0].split(" (")[0] for row in grid_of(client)[1:]] == [app.config["SITE_NAME"], "Frankfurt"]
    with app.app_context():
        revoke_token(db.session.get(Location, site.frankfurt), site.now)
        db.session.commit()
    assert grid_of(client) == []


def test_only_public_enabled_checks_of_a_public_server_are_columns(app, client):
    with app.app_context():
        site = make_regional_site()
        hidden = Check(server_id=site.server, type_name="pop", label="Staff POP secret-column", host="x", port=110,
                       interval_seconds=60, visibility=Visibility.INTERNAL)
        off = Check(server_id=site.server, type_name="http", label="Switched off column", host="x", port=80,
                    interval_seconds=60, enabled=False)
        db.session.add_all([hidden, off])
        db.session.commit()
        for check in (hidden, off):
            db.session.add(CheckLocation(check_id=check.id, location_id=site.lusaka, last_result={
                "status": "CRITICAL", "summary": "internal-marker", "checked_at": site.now.isoformat()},
                last_checked_at=site.now))
        db.session.commit()
    page = client.get("/servers/NC036").get_data(as_text=True)
    assert grid_of(client)[0] == ["Location", "Submission", "IMAP"]
    assert "secret-column" not in page and "Switched off column" not in page and "internal-marker" not in page
    with app.app_context():
        server = db.session.get(Check, site.submission).server
        server.visibility = Visibility.INTERNAL
        db.session.commit()
    page = client.get("/servers/NC036").get_data(as_text=True)
    assert "location-grid" not in page and TIMED_OUT not in page


def test_hostile_rows_show_as_what_they_are_never_an_error(app, client):
    with app.app_context():
        site = make_regional_site()
        db.session.execute(text("UPDATE check_locations SET last_result = '{\"status\": \"exploded\"}', "
                                "state = 'exploded' WHERE location_id = :id"), {"id": site.lusaka})
        db.session.execute(text("UPDATE locations SET name = '<script>alert(1)</script>', "
                                "network = '<b>MTN</b>', city = '\"><img src=x onerror=alert(2)>' "
                                "WHERE id = :id"), {"id": site.frankfurt})
        db.session.commit()
    response = client.get("/servers/NC036")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<b>MTN</b>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (&lt;b&gt;MTN&lt;/b&gt;)" in page
    lusaka = next(row for row in grid_of(client) if row[0].startswith("Lusaka"))
    assert re.fullmatch(r"unknown unreadable result 1 min ago", lusaka[1])


def test_a_result_that_is_no_object_and_a_location_never_heard_from_read_plainly(app, client):
    with app.app_context():
        site = make_regional_site()
        db.session.execute(text("UPDATE check_locations SET last_result = '\"just text\"' WHERE location_id = :id"),
                           {"id": site.frankfurt})
        add_agent("Durban", [site.submission], network="Vodacom")
        db.session.commit()
    rows = {row[0].split(" ")[0]: row for row in grid_of(client)[1:]}
    assert rows["Frankfurt"][1].startswith("unknown unreadable result")
    assert rows["Durban"][1:] == ["no recent result no result yet", "—"]


def test_one_more_location_probing_a_check_is_read_with_the_others(app, client):
    with app.app_context():
        site = make_regional_site()
        durban = add_agent("Durban", [site.imap], network="Vodacom")
        from_agent(durban, site.imap, Status.CRITICAL, site.now)
    durban_row = next(row for row in grid_of(client) if row[0].startswith("Durban"))
    assert durban_row[1] == "—" and durban_row[2].startswith(f"outage {TIMED_OUT}")
