"""In a real browser: a server listed without checks stays neutral after widgets.js refreshes, and no page logs an error."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..factories import make_server
from .conftest import watch
from .test_live_widgets import mail_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def listed_server(mail_server):  # noqa: F811  (the imported fixture)
    """NC033, public and without checks, beside the probed NC036."""
    with mail_server.app.app_context():
        make_server("NC033", display_order=1)
    return mail_server


def test_a_server_without_checks_is_never_coloured_as_live_even_after_a_refresh(page, listed_server):
    problems = watch(page)
    page.clock.install()
    for path, box in (("/", ".glance li.server:has(a[href$='NC033'])"), ("/servers/NC033", ".server-facts")):
        page.goto(f"{listed_server.url}{path}")
        listed = page.locator(box)
        expect(listed).to_have_class("server status-not-probed" if path == "/" else "server-facts status-not-probed")
        # Wait for the refresh's answer to be in, so the class checked is the one widgets.js set.
        with page.expect_response(lambda response: "/api/servers" in response.url):
            page.clock.run_for(31_000)
        page.evaluate("() => new Promise(requestAnimationFrame)")
        expect(listed.locator(".state")).to_contain_text("OPERATIONAL")
        expect(listed).to_have_class("server status-not-probed" if path == "/" else "server-facts status-not-probed")
    expect(page.locator(".glance li.server:has(a[href$='NC036'])")).to_have_class("server status-operational")
    # The favicon is found, so a public page logs no error at all.
    assert problems.console_errors == [] and problems.page_errors == []
