"""The page that shows a new location's token and the commands to run its agent, in Chromium on a phone and a desktop."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import sign_in, watch

pytestmark = pytest.mark.browser

WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.mark.parametrize("screen", list(WIDTHS))
def test_the_token_and_commands_scroll_in_their_own_boxes_never_the_page(browser, live_site, tmp_path, screen):
    width, height = WIDTHS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    problems = watch(page)
    try:
        sign_in(page, live_site)
        page.goto(f"{live_site.url}/admin/locations/new")
        page.fill("input[name=name]", "Lusaka")
        page.fill("input[name=network]", "MTN")
        page.get_by_role("button", name="Add location and show its token").click()
        expect(page.locator("h1")).to_have_text("Run the agent of Lusaka (MTN)")
        commands = page.locator("pre", has_text="ninerstatus agent --site")
        expect(commands).to_contain_text("chmod 600 agent.token")
        page.screenshot(path=str(tmp_path / f"token-{screen}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        for box in (commands, page.locator("#agent-token")):
            spills = box.evaluate("e => e.scrollWidth > e.clientWidth && getComputedStyle(e).overflowX === 'visible'")
            assert not spills, "a long line spills out of its box over the page"
        assert problems.console_errors == [] and problems.page_errors == []
    finally:
        context.close()
