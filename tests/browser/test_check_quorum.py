"""In a real browser: staff choose a check's agent locations and quorum on its form and find them saved.

The site's own runner is shown ticked and cannot be unticked; a quorum no
set of the chosen locations can reach is saved, and the check's page says
why it can then only ever be degraded.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ninerstatus.agents.models import CheckLocation
from ninerstatus.checks.models import Check

from ..admin.test_check_locations import add_locations
from ..factories import make_server
from .conftest import sign_in, watch

pytestmark = pytest.mark.browser


@pytest.fixture
def agents(live_site) -> dict[str, int]:
    """A server, the site's own location and two agent locations; their ids by name."""
    with live_site.app.app_context():
        make_server("NC036", role="Mail server")
    return add_locations(live_site.app, "Lusaka", "Toronto")


def test_staff_set_a_quorum_and_locations_on_a_check_and_see_them_saved(page, live_site, agents):
    problems = watch(page)
    sign_in(page, live_site)
    page.goto(f"{live_site.url}/admin/checks/new/http")
    site_box = page.get_by_label("System Status (this site's runner: always)")
    expect(site_box).to_be_checked()
    expect(site_box).to_be_disabled()
    page.fill("#host", "mail.example.net")
    page.get_by_label("Lusaka (MTN)").check()
    page.select_option("#quorum", label="2 locations")
    page.click("button:has-text('Save check')")
    page.wait_for_url(f"{live_site.url}/admin/checks")
    [check] = live_site.query(select(Check))
    assert check.quorum == 2
    assert live_site.query(select(CheckLocation.location_id)) == [agents["Lusaka"]]

    page.goto(f"{live_site.url}/admin/checks/{check.id}")
    expect(page.get_by_label("Lusaka (MTN)")).to_be_checked()
    expect(page.get_by_label("Toronto")).not_to_be_checked()
    expect(page.locator("#quorum")).to_have_value("2")
    expect(page.locator("#quorum-warning")).to_have_count(0)
    # Three of two: saved, and the page comes back saying it can only ever be degraded.
    page.select_option("#quorum", label="3 locations")
    page.click("button:has-text('Save check')")
    page.wait_for_url(f"{live_site.url}/admin/checks/{check.id}")
    expect(page.locator("#quorum-warning")).to_contain_text("it can never count as down, only as degraded")
    expect(page.locator("#quorum")).to_have_value("3")
    expect(page.locator("#check-locations")).to_contain_text("agent offline: it has never reported")
    [check] = live_site.query(select(Check))
    assert check.quorum == 3
    assert problems.console_errors == [] and problems.page_errors == []
