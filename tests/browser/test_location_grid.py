"""A server page with a regional problem, in Chromium: on a 390 px phone and on a desktop the grid and widgets read well."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..regional_site import make_regional_site
from .conftest import watch

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


def box_overflow(page, selector: str) -> int:
    """How many pixels the element's content is wider than its box (0 when it fits)."""
    return page.eval_on_selector(selector, "element => element.scrollWidth - element.clientWidth")


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_a_regional_problem_reads_well_on_a_phone_and_a_desktop(browser, live_site, tmp_path, screen):
    with live_site.app.app_context():
        make_regional_site()
    width, height = WIDTHS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems = watch(page)
    try:
        page.goto(f"{live_site.url}/servers/NC036")
        fact = page.locator(".checks-wide .check.status-degraded .check-fact")
        expect(fact).to_have_text("Reachable from 2 of 3 locations. From Lusaka (MTN): connection timed out on "
                                  "port 587 since " + fact.inner_text().rsplit("since ", 1)[1])
        # The long summary wraps inside the widget, in the degraded colour's widget.
        assert box_overflow(page, ".checks-wide") <= 0
        border = page.eval_on_selector(".checks-wide .check.status-degraded",
                                       "element => getComputedStyle(element).borderLeftColor")
        cell = page.eval_on_selector(".located.status-outage", "element => getComputedStyle(element).borderLeftColor")
        assert border != cell, "a degraded widget and a failing cell are told apart by colour"
        grid = page.locator(".location-grid")
        expect(grid.locator("tbody th").nth(2)).to_contain_text("Lusaka (MTN)")
        expect(grid.locator(".located.status-nodata")).to_contain_text("no recent result")
        # The page itself never scrolls sideways; on a phone the grid scrolls inside its own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        if screen == "desktop":
            assert box_overflow(page, ".location-grid") <= 0
        # However wide the grid, scrolled to its last column the locations stay in view.
        grid.evaluate("element => { element.scrollLeft = element.scrollWidth; }")
        for label in (page.locator(".location-grid th").first, page.locator(".location-grid tbody th").first):
            assert label.bounding_box()["x"] >= grid.bounding_box()["x"] - 1
        grid.evaluate("element => { element.scrollLeft = 0; }")
        page.screenshot(path=str(tmp_path / f"regional-{screen}.png"), full_page=True)
        assert problems.console_errors == [] and problems.page_errors == []
    finally:
        context.close()
