"""In a real browser, on a phone and a desktop: days without data look unlike up days, and the legend fits the page."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from ninerstatus.extensions import db
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.rollup import Sample, epoch_seconds
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from ..factories import make_server
from ..history.conftest import add_check
from .conftest import watch

pytestmark = pytest.mark.browser


@pytest.fixture
def young_server(live_site):
    """NC036, probed every hour for the last two days only."""
    with live_site.app.app_context():
        check = add_check(make_server("NC036"))
        end = epoch_seconds(utcnow())
        record_samples(Sample(check.id, moment, Status.OK, 20_000, None, False)
                       for moment in range(end - 2 * 86400, end, 3600))
        db.session.commit()
    return live_site


@pytest.mark.parametrize("width", [390, 1280])
def test_days_without_data_are_drawn_unlike_up_days_and_the_legend_says_which_is_which(browser, young_server,
                                                                                       width):
    page = browser.new_page(viewport={"width": width, "height": 800})
    problems = watch(page)
    page.goto(f"{young_server.url}/servers/NC036")
    expect(page.locator(".uptime-partial dt")).to_contain_text("Since ")
    legend = page.locator(".uptime-legend")
    expect(legend.locator("li", has_text="no data")).to_be_visible()
    expect(legend.locator("li", has_text="99.9 % or more up")).to_be_visible()
    look = "element => [getComputedStyle(element).backgroundColor, getComputedStyle(element).backgroundImage]"
    nodata = page.locator(".uptime-bars .bar-nodata").first.evaluate(look)
    up = page.locator(".uptime-bars .bar-ok").last.evaluate(look)
    assert nodata != up and "gradient" in nodata[1] and up[1] == "none"
    # The legend's swatches are the bars' own colours.
    assert legend.locator(".swatch.bar-nodata").evaluate(look) == nodata
    # In the sidebar's strip, days without data are a thin line, up days the full height.
    strip = page.locator(".uptime-strip svg")
    heights = strip.evaluate("svg => Object.fromEntries([...svg.querySelectorAll('rect')].map("
                             "rect => [rect.getAttribute('class'), rect.getBoundingClientRect().height]))")
    assert 0 < heights["bar-nodata"] < heights["bar-ok"]
    # Nothing of it widens the page beyond the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert problems.console_errors == [] and problems.page_errors == []
    page.close()
