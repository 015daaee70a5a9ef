"""A server page with a regional problem, in Chromium: on a 390 px phone and on a desktop the grid and widgets read well."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from ninerstatus.agents.models import CheckLocation
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.probing import Status

from ..regional_site import from_agent, from_site, make_regional_site
from .conftest import watch

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def box_overflow(page, selector: str) -> int:
    """How many pixels the element's content is wider than its box (0 when it fits)."""
    return page.eval_on_selector(selector, "element => element.scrollWidth - element.clientWidth")


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_a_regional_problem_reads_well_on_a_phone_and_a_desktop(browser, live_site, tmp_path, screen):
    with live_site.app.app_context():
        site = make_regional_site()
        # Two more services, probed from Frankfurt too: four columns are more than a phone's width.
        for order, (label, type_name) in enumerate((("Webmail", "http"), ("POP3", "pop")), start=2):
            check = Check(server_id=site.server, type_name=type_name, label=label, host="mail.example.net",
                          port=443, interval_seconds=60, display_order=order)
            db.session.add(check)
            db.session.flush()
            db.session.add(CheckLocation(check_id=check.id, location_id=site.frankfurt))
            db.session.commit()
            from_agent(site.frankfurt, check.id, Status.OK, site.now - timedelta(seconds=1))
            from_site(check.id, Status.OK, site.now)
    width, height = WIDTHS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems = watch(page)
    try:
        page.goto(f"{live_site.url}/servers/NC036")
        fact = page.locator(".checks-wide .check.status-degraded .check-fact")
        expect(fact).to_have_text("Reachable from 2 of 3 locations. From Lusaka (MTN): connection timed out on "
                                  "port 587 since " + fact.inner_text().rsplit("since ", 1)[1])
        # The long summary wraps inside the widget, on the page and in the sidebar, in the DEGRADED colour.
        assert box_overflow(page, ".checks-wide") <= 0
        assert box_overflow(page, ".servers .check.status-degraded") <= 0
        border = page.eval_on_selector(".checks-wide .check.status-degraded",
                                       "element => getComputedStyle(element).borderLeftColor")
        degraded = page.eval_on_selector(".server-facts.status-degraded .state",
                                         "element => getComputedStyle(element).color")
        assert border == degraded
        cell = page.eval_on_selector(".located.status-outage", "element => getComputedStyle(element).borderLeftColor")
        assert border != cell, "a degraded widget and a failing cell are told apart by colour"
        grid = page.locator(".location-grid")
        expect(grid.locator("tbody th").nth(2)).to_contain_text("Lusaka (MTN)")
        expect(grid.locator(".located.status-nodata")).to_contain_text("no recent result")
        # The page itself never scrolls sideways; on a phone the grid scrolls inside its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # A desktop has room for every column; a phone scrolls the grid inside its own box.
        assert (box_overflow(page, ".location-grid") > 0) is (screen == "phone")
        # However wide the grid, scrolled to its last column the locations stay in view.
        grid.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
        for label in (page.locator(".location-grid th").first, page.locator(".location-grid tbody th").first):
            assert label.bounding_box()["x"] >= grid.bounding_box()["x"] - 1
        grid.screenshot(path=str(tmp_path / f"grid-{screen}-scrolled.png"))
        grid.evaluate("element => { element.scrollLeft = 0; }")
        page.screenshot(path=str(tmp_path / f"regional-{screen}.png"), full_page=True)
        assert problems.console_errors == [] and problems.page_errors == []
    finally:
        context.close()


def test_the_grid_follows_each_location_without_a_reload(page, live_site):
    live_site.app.config["API_CACHE_SECONDS"] = 0
    with live_site.app.app_context():
        site = make_regional_site()
    problems = watch(page)
    page.clock.install()
    page.goto(f"{live_site.url}/servers/NC036")
    lusaka = page.locator(".location-grid tbody tr", has_text="Lusaka (MTN)").locator("td").first
    expect(lusaka).to_have_class("located status-outage")
    expect(lusaka.locator(".located-summary")).to_have_text("connection timed out on port 587")
    # Lusaka's next probe gets through; Nairobi's agent, silent already, has still not been heard from.
    with live_site.app.app_context():
        from_agent(site.lusaka, site.submission, Status.OK, site.now + timedelta(seconds=1))
    page.clock.run_for(31_000)
    expect(lusaka).to_have_class("located status-operational")
    expect(lusaka.locator(".check-state")).to_have_text("operational")
    expect(lusaka.locator(".located-summary")).to_have_text("STARTTLS ok")
    expect(lusaka.locator(".check-age time")).to_have_text(re.compile(r"^\d+ s ago$"))
    nairobi = page.locator(".location-grid tbody tr", has_text="Nairobi").locator("td").first
    expect(nairobi).to_have_class("located status-nodata")
    expect(nairobi.locator(".check-state")).to_have_text("no recent result")
    # The IMAP column is a dash for the agents that do not probe it, and stays one.
    expect(page.locator(".location-grid tbody tr", has_text="Lusaka (MTN)").locator("td").nth(1)).to_have_class(
        "cell-none")
    assert problems.console_errors == [] and problems.page_errors == []
