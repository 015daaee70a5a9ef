"""Staff choose a check's quorum and its agent locations on the check form, and read each location's view of it.

The quorum is "a majority" (stored as None) or a whole number from 1; a
number above the locations that probe the check is saved with a warning.
Locations chosen from the check form keep the state of the assignments that
stay, and the site's own runner is never a choice (it probes every check).
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ninerstatus.admin.check_locations import check_locations
from ninerstatus.agents.locations import issue_token, site_location
from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from .test_checks_admin import check_form, server_id, stored_checks

__all__ = ["server_id"]


def add_locations(app, *names: str) -> dict[str, int]:
    """The site's own location and agent locations ``names`` (each with a token); their ids by name, "site" too."""
    with app.app_context():
        ids = {"site": site_location().id}
        for name in names:
            location = Location(name=name, network="MTN" if name == "Lusaka" else "")
            db.session.add(location)
            db.session.flush()
            issue_token(location)
            ids[name] = location.id
        db.session.commit()
        return ids


def rows_of(app, check_id: int) -> dict[int, str]:
    """The state of each location's row of the check, by location id."""
    with app.app_context():
        return {row.location_id: row.state for row in db.session.scalars(
            select(CheckLocation).where(CheckLocation.check_id == check_id))}


def selected_quorum(page: str) -> str | None:
    select_html = re.search(r'<select id="quorum" name="quorum"[^>]*>(.*?)</select>', page, re.S).group(1)
    chosen = re.search(r'<option selected value="([^"]*)"', select_html)
    return chosen.group(1) if chosen else None


@pytest.mark.parametrize(("sent", "stored"), [("", None), ("1", 1), ("2", 2), (" 3 ", 3)])
def test_the_quorum_is_a_majority_or_a_whole_number(app, auth, server_id, sent, stored):
    add_locations(app, "Lusaka", "Toronto")
    auth.login()
    answer = auth.post("/admin/checks/new/banner", check_form(auth, server_id, quorum=sent))
    assert answer.status_code == 302, answer.get_data(as_text=True)
    [check] = stored_checks(app)
    assert check.quorum == stored


@pytest.mark.parametrize("sent", ["0", "-1", "two", "2.5", "1001"])
def test_a_quorum_that_is_no_whole_number_from_1_is_refused_keeping_what_was_typed(app, auth, server_id, sent):
    auth.login()
    answer = auth.post("/admin/checks/new/banner", check_form(auth, server_id, quorum=sent, label="Kept label"))
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert 'id="quorum-error">Choose a majority, or a whole number of locations from 1 to 1000.</p>' in page
    assert 'value="Kept label"' in page
    assert stored_checks(app) == []


def test_a_quorum_chosen_stays_chosen_when_another_field_is_refused(app, auth, server_id):
    ids = add_locations(app, "Lusaka")
    auth.login()
    answer = auth.post("/admin/checks/new/banner", check_form(auth, server_id, host="bad host", quorum="2",
                                                              location_ids=ids["Lusaka"]))
    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert selected_quorum(page) == "2"
    assert re.search(rf'<input checked id="location_ids-0" name="location_ids" type="checkbox" value="{ids["Lusaka"]}">',
                     page)


def test_a_quorum_no_set_of_locations_can_reach_is_saved_with_a_warning(app, auth, server_id):
    ids = add_locations(app, "Lusaka", "Toronto")
    auth.login()
    answer = auth.post("/admin/checks/new/banner", check_form(auth, server_id, quorum="3",
                                                              location_ids=ids["Lusaka"]))
    [check] = stored_checks(app)
    assert check.quorum == 3
    # Saved as asked, and shown again on its page, which says why.
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/admin/checks/{check.id}")
    page = auth.client.get(f"/admin/checks/{check.id}").get_data(as_text=True)
    warning = ("Down when failing from 3 locations, but only 2 locations probe it: it can never count as down, "
               "only as degraded.")
    assert page.count(warning) == 2  # the message of the save, and beside the field
    assert 'id="quorum-warning"' in page
    # With Toronto too, three locations probe it: no warning.
    auth.post(f"/admin/checks/{check.id}", check_form(auth, server_id, quorum="3",
                                                      location_ids=[ids["Lusaka"], ids["Toronto"]]))
    assert "can never count as down" not in auth.client.get(f"/admin/checks/{check.id}").get_data(as_text=True)


def test_the_check_form_chooses_its_agent_locations_and_kept_ones_keep_their_state(app, auth, server_id):
    ids = add_locations(app, "Lusaka", "Toronto", "Quito")
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id, location_ids=[ids["Lusaka"], ids["Quito"]]))
    [check] = stored_checks(app)
    with app.app_context():
        db.session.add(CheckLocation(check_id=check.id, location_id=ids["site"], state="ok"))
        db.session.get(CheckLocation, (check.id, ids["Lusaka"])).state = "critical"
        db.session.commit()
    page = auth.client.get(f"/admin/checks/{check.id}").get_data(as_text=True)
    checked = set(re.findall(r'<input checked id="location_ids-\d+" name="location_ids" type="checkbox" '
                             r'value="(\d+)">', page))
    assert checked == {str(ids["Lusaka"]), str(ids["Quito"])}
    answer = auth.post(f"/admin/checks/{check.id}", check_form(auth, server_id,
                                                                location_ids=[ids["Lusaka"], ids["Toronto"]]))
    assert answer.status_code == 302
    # Lusaka stays as it was, Toronto is new, Quito is gone; the site's own row is never touched.
    assert rows_of(app, check.id) == {ids["site"]: "ok", ids["Lusaka"]: "critical", ids["Toronto"]: "unknown"}
    auth.post(f"/admin/checks/{check.id}", check_form(auth, server_id))
    assert rows_of(app, check.id) == {ids["site"]: "ok"}


def test_the_site_s_runner_is_shown_as_always_probing_and_is_no_choice(app, auth, server_id):
    ids = add_locations(app, "Lusaka")
    auth.login()
    page = auth.client.get("/admin/checks/new/banner").get_data(as_text=True)
    assert "<input type=\"checkbox\" checked disabled> System Status <small>(this site's runner: always)" \
        in page.replace("&#39;", "'")
    offered = re.findall(r'name="location_ids" type="checkbox" value="(\d+)"', page)
    assert offered == [str(ids["Lusaka"])]
    answer = auth.post("/admin/checks/new/banner", check_form(auth, server_id, location_ids=ids["site"]))
    assert answer.status_code == 400
    assert f"&#39;{ids['site']}&#39; is not a valid choice" in answer.get_data(as_text=True)
    assert stored_checks(app) == []


def test_the_site_s_location_page_has_no_checks_to_choose_and_refuses_a_change_of_them(app, auth, server_id):
    ids = add_locations(app)
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id))
    [check] = stored_checks(app)
    with app.app_context():
        db.session.add(CheckLocation(check_id=check.id, location_id=ids["site"], state="critical"))
        db.session.commit()
    page = auth.client.get(f"/admin/locations/{ids['site']}").get_data(as_text=True).replace("&#39;", "'")
    assert "This is the site's own runner: it probes every enabled check" in page
    assert 'name="checks"' not in page
    for checks in ([], [check.id]):
        refused = auth.post(f"/admin/locations/{ids['site']}", {"name": "Renamed", "checks": checks or ""})
        assert refused.status_code == 400
        assert "its checks cannot be chosen. Nothing was saved." in refused.get_data(as_text=True).replace("&#39;", "'")
    renamed = auth.post(f"/admin/locations/{ids['site']}", {"name": "Renamed"})
    assert renamed.status_code == 302
    with app.app_context():
        assert db.session.get(Location, ids["site"]).name == "Renamed"
    assert rows_of(app, check.id) == {ids["site"]: "critical"}  # its own row, with its state, stays


def _seen_check(app, ids: dict[str, int]) -> int:
    """A check probed every minute by the site (fresh), Lusaka (stale), Toronto (never reported), Quito (revoked)."""
    with app.app_context():
        check = db.session.scalar(select(Check))
        now = utcnow()
        for name, age in (("site", 30), ("Lusaka", 181), ("Toronto", None), ("Quito", 20)):
            row = CheckLocation(check_id=check.id, location_id=ids[name], state="critical" if name != "site" else "ok")
            if age is not None:
                row.last_checked_at = row.state_since = now - timedelta(seconds=age)
                row.last_result = {"status": row.state.upper(), "summary": f"seen from {name}",
                                   "checked_at": row.last_checked_at.isoformat()}
            db.session.add(row)
        db.session.get(Location, ids["Lusaka"]).last_contact_at = now - timedelta(seconds=181)
        db.session.get(Location, ids["Quito"]).last_contact_at = now
        db.session.get(Location, ids["Quito"]).revoked_at = now
        db.session.commit()
        return check.id


def test_the_check_page_shows_each_location_s_state_and_which_agents_are_offline(app, auth, server_id):
    ids = add_locations(app, "Lusaka", "Toronto", "Quito")
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id, interval_seconds=60))
    check_id = _seen_check(app, ids)
    page = auth.client.get(f"/admin/checks/{check_id}").get_data(as_text=True).replace("&#39;", "'")
    table = page[page.index('id="check-locations"'):]
    rows = [[re.sub(r"<[^>]+>", "", cell.replace("<br>", " | ")).strip()
             for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", table[:table.index("</table>")], re.S) if "<td" in row]
    assert [(where, state, result.rsplit(" | ", 1)[0]) for where, state, result in rows] == [
        ("System Status (this site's runner)", "OK", "seen from site"),
        ("Lusaka (MTN) | agent offline: no result for 3 intervals", "CRITICAL", "seen from Lusaka"),
        ("Quito | revoked", "CRITICAL", "seen from Quito"),
        ("Toronto | agent offline: it has never reported", "—", "no result yet")]
    assert [result.endswith(" ago") for *_, result in rows] == [True, True, True, False]
    # Only the site's runner judges: one failing location would make it down.
    assert "Down when 1 location sees it failing (a majority of the 1 with a recent result)." in page
    assert "None sees it failing now." in page


def test_a_location_leaves_the_quorum_after_three_intervals_without_a_result(app, auth, server_id):
    ids = add_locations(app, "Lusaka")
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id, interval_seconds=60,
                                                     location_ids=ids["Lusaka"], quorum="2"))
    with app.app_context():
        check = db.session.scalar(select(Check))
        row = db.session.get(CheckLocation, (check.id, ids["Lusaka"]))
        row.state, row.last_checked_at = "critical", utcnow()
        row.state_since = row.last_checked_at
        db.session.get(Location, ids["Lusaka"]).last_contact_at = row.last_checked_at
        db.session.commit()
        checked_at = row.last_checked_at

        def lusaka(now):
            seen = check_locations(check, now)
            view = next(view for view in seen.views if view.location.name == "Lusaka")
            return view.left_out, seen.verdict.judges, seen.verdict.status

        check_id = check.id
    page = auth.client.get(f"/admin/checks/{check_id}").get_data(as_text=True)
    assert ("Down when 2 locations see it failing (the check's quorum); 1 has a recent result now. Failing now "
            "from Lusaka (MTN) only: a regional problem, shown as degraded.") in " ".join(page.split()).replace("&#39;", "'")
    with app.app_context():
        check = db.session.get(Check, check_id)
        # Failing from Lusaka alone, of a quorum of 2: regional. Then Lusaka goes silent: nobody judges.
        assert lusaka(checked_at + timedelta(seconds=180)) == (None, 1, Status.WARNING)
        assert lusaka(checked_at + timedelta(seconds=181)) == ("agent offline: no result for 3 intervals", 0,
                                                               Status.UNKNOWN)


def test_a_location_given_no_token_yet_is_shown_as_an_agent_offline(app, auth, server_id):
    ids = add_locations(app)
    with app.app_context():  # as `config apply` makes a location: an admin gives it a token later
        nairobi = Location(name="Nairobi")
        db.session.add(nairobi)
        db.session.commit()
        ids["Nairobi"] = nairobi.id
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id, location_ids=ids["Nairobi"]))
    with app.app_context():
        seen = check_locations(db.session.scalar(select(Check)), utcnow())
    assert [(view.location.name, view.left_out) for view in seen.views] == [
        ("System Status", "no recent result from this site's runner"), ("Nairobi", "agent offline: it has no token yet")]
    assert seen.verdict.status is Status.UNKNOWN
