"""Staff add probe locations, get each token once with the command to run, choose checks, revoke; admins only."""
from __future__ import annotations

import re
import time

from sqlalchemy import select

from ninerstatus.agents.locations import site_location
from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.agents.signing import parse_token, secret_hash, signed_headers
from ninerstatus.extensions import db
from ninerstatus.probing import Status

from ..api.conftest import add_check
from ..factories import make_server

TOKEN = re.compile(r"nsa1\.[0-9a-f]{16}\.[A-Za-z0-9_-]+")


def two_checks(app) -> tuple[int, int]:
    with app.app_context():
        server = make_server("NC036")
        return add_check(server, Status.OK, label="Submission").id, add_check(server, Status.OK, label="IMAP").id


def add_lusaka(auth, checks: list[int]):
    auth.login()
    return auth.post("/admin/locations/new", {"name": " Lusaka ", "city": "Lusaka", "country": "Zambia",
                                              "network": "MTN", "checks": checks})


def test_a_new_location_shows_its_token_once_with_the_command_and_keeps_only_a_hash(app, auth):
    first, _ = two_checks(app)
    page = add_lusaka(auth, [first])
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    token = parse_token(TOKEN.search(text).group(0))
    assert "ninerstatus agent --site http://status.test/ --token-file agent.token" in text
    assert "ninerstatus-agent/bin/pip install ninerstatus\n" in text
    with app.app_context():
        location = db.session.scalar(select(Location).where(Location.name == "Lusaka"))
        assert (location.city, location.country, location.network) == ("Lusaka", "Zambia", "MTN")
        assert location.token_hash == secret_hash(token.secret) and token.secret not in location.token_hash
        assert list(db.session.scalars(select(CheckLocation.check_id).where(
            CheckLocation.location_id == location.id))) == [first]
    listing = auth.client.get("/admin/locations").get_data(as_text=True)
    assert "Lusaka (MTN)" in listing and "never connected" in listing
    assert token.secret not in listing


def test_the_token_works_until_revoked_and_a_new_one_replaces_it(app, auth, client):
    first, _ = two_checks(app)
    old = TOKEN.search(add_lusaka(auth, [first]).get_data(as_text=True)).group(0)

    def assignments(token: str) -> int:
        path = "/api/agent/v1/assignments"
        return client.get(path, headers=signed_headers(token, "GET", path, b"", time.time())).status_code

    assert assignments(old) == 200
    with app.app_context():
        location_id = db.session.scalar(select(Location.id).where(Location.name == "Lusaka"))
    new = TOKEN.search(auth.post(f"/admin/locations/{location_id}/token").get_data(as_text=True)).group(0)
    assert assignments(old) == 401 and assignments(new) == 200
    assert auth.post(f"/admin/locations/{location_id}/revoke").status_code == 302
    assert assignments(new) == 401
    assert "revoked" in auth.client.get("/admin/locations").get_data(as_text=True)


def test_choosing_checks_keeps_the_state_of_those_kept(app, auth):
    first, second = two_checks(app)
    add_lusaka(auth, [first])
    with app.app_context():
        location_id = db.session.scalar(select(Location.id).where(Location.name == "Lusaka"))
        db.session.get(CheckLocation, (first, location_id)).state = "critical"
        db.session.commit()
    answer = auth.post(f"/admin/locations/{location_id}", {"name": "Lusaka", "checks": [first, second]})
    assert answer.status_code == 302
    with app.app_context():
        rows = {row.check_id: row.state for row in db.session.scalars(
            select(CheckLocation).where(CheckLocation.location_id == location_id))}
    assert rows == {first: "critical", second: "unknown"}


def test_a_name_taken_by_another_location_is_a_form_error_that_keeps_what_was_typed(app, auth):
    add_lusaka(auth, [])
    again = auth.post("/admin/locations/new", {"name": "LUSAKA", "network": "Airtel", "checks": []})
    assert again.status_code == 400
    text = again.get_data(as_text=True)
    assert "Another location already has this name." in text and 'value="Airtel"' in text


def test_the_sites_own_location_is_listed_and_has_no_token(app, auth):
    auth.login()
    with app.app_context():  # the migration made it; the PostgreSQL leg empties every table first
        site_location()
        db.session.commit()
    listing = auth.client.get("/admin/locations").get_data(as_text=True)
    assert "this site&#39;s runner" in listing or "this site's runner" in listing
    with app.app_context():
        site = db.session.scalar(select(Location).where(Location.is_site.is_(True)))
    assert auth.post(f"/admin/locations/{site.id}/token").status_code == 400
    assert auth.post(f"/admin/locations/{site.id}/revoke").status_code == 400


def test_editors_cannot_see_or_change_locations(app, auth):
    auth.login_editor()
    assert auth.client.get("/admin/locations").status_code == 403
    assert auth.post("/admin/locations/new", {"name": "Lusaka"}).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(Location).where(Location.name == "Lusaka")) is None


def test_an_agent_whose_clock_is_off_is_flagged(app, auth):
    add_lusaka(auth, [])
    with app.app_context():
        location = db.session.scalar(select(Location).where(Location.name == "Lusaka"))
        location.clock_offset_seconds, location.last_contact_at = -42.0, location.created_at
        db.session.commit()
    listing = auth.client.get("/admin/locations").get_data(as_text=True)
    assert "-42.0 s" in listing and "clock off" in listing
    app.config["AGENT_CLOCK_TOLERANCE_SECONDS"] = 60
    assert "clock off" not in auth.client.get("/admin/locations").get_data(as_text=True)


def test_a_location_page_lists_what_it_saw_of_each_check_and_survives_a_spoiled_result(app, auth):
    first, second = two_checks(app)
    add_lusaka(auth, [first, second])
    with app.app_context():
        location_id = db.session.scalar(select(Location.id).where(Location.name == "Lusaka"))
        row = db.session.get(CheckLocation, (first, location_id))
        row.last_result = {"status": "CRITICAL", "summary": "connection timed out on port 587",
                           "checked_at": "2026-12-02T10:02:00+00:00"}
        row.last_checked_at = location_created = db.session.get(Location, location_id).created_at
        db.session.get(CheckLocation, (second, location_id)).last_result = {"status": "SHRUG"}
        db.session.commit()
    page = auth.client.get(f"/admin/locations/{location_id}")
    assert page.status_code == 200 and location_created is not None
    text = page.get_data(as_text=True)
    assert "NC036: Submission" in text and "connection timed out on port 587" in text and "CRITICAL" in text
    assert "NC036: IMAP" in text and "the stored result cannot be read" in text


def test_the_command_installs_what_the_site_says_its_agents_install(app, auth):
    first, _ = two_checks(app)
    app.config["AGENT_INSTALL"] = "git+https://git.example.net/ops/ninerstatus.git@v1.4"
    assert "pip install git+https://git.example.net/ops/ninerstatus.git@v1.4\n" in add_lusaka(
        auth, [first]).get_data(as_text=True)
    # Pasted into a shell, the setting stays one argument to pip, whatever it holds.
    app.config["AGENT_INSTALL"] = "ninerstatus; rm -rf ~"
    text = auth.post("/admin/locations/new", {"name": "Frankfurt", "checks": [first]}).get_data(as_text=True)
    assert "pip install &#39;ninerstatus; rm -rf ~&#39;\n" in text
