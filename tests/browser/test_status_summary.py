"""In a real browser: what the first screen shows in each state of the site, on a desktop and on a phone."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import Page, expect

from ninerstatus.extensions import db
from ninerstatus.models import Role
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from ..admin.accounts import add_user
from ..factories import make_tag
from ..site_states import HEADLINES, STATES, build, fail
from .conftest import sign_in, watch

pytestmark = pytest.mark.browser

DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def box(page: Page, selector: str) -> dict:
    """The first match's box in page coordinates (the page is not scrolled)."""
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not shown"
    return found


def in_first_screen(page: Page, selector: str) -> bool:
    """True when the first match lies wholly inside the viewport as the page opens."""
    shown, viewport = box(page, selector), page.viewport_size
    return (shown["y"] >= 0 and shown["y"] + shown["height"] <= viewport["height"]
            and shown["x"] >= 0 and shown["x"] + shown["width"] <= viewport["width"])


def overflows(page: Page) -> bool:
    """True when the page is wider than the screen (it scrolls sideways)."""
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")


@pytest.fixture
def open_page(browser):
    """Open a path of a site in a fresh browser profile of the given size, with or without JavaScript."""
    contexts = []

    def open_(site, path: str, viewport: dict, javascript: bool = True, timezone_id: str = "UTC") -> Page:
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript, timezone_id=timezone_id)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{site.url}{path}")
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize("state", STATES)
def test_the_first_screen_answers_is_it_down(live_site, open_page, state, viewport, javascript):
    with live_site.app.app_context():
        build(state, utcnow())
    page = open_page(live_site, "/", viewport, javascript)
    problems = watch(page)
    expect(page.locator(".summary-headline")).to_contain_text(HEADLINES[state])
    assert in_first_screen(page, ".summary-headline")
    if state in ("open_incident", "maintenance", "upcoming_window"):
        assert in_first_screen(page, ".summary-post .summary-title")
        assert in_first_screen(page, ".summary-post .summary-state")
    # The posts start in the first screen too, below the summary.
    assert in_first_screen(page, "main .post-title")
    assert box(page, "main .post-title")["y"] > box(page, ".summary")["y"] + box(page, ".summary")["height"]
    glance, main = box(page, ".glance"), box(page, "main")
    if viewport is PHONE:
        # No server list before the posts: it follows them.
        assert glance["y"] >= main["y"] + main["height"]
    else:
        # Beside the posts, starting in the first screen.
        assert glance["x"] >= main["x"] + main["width"] and glance["y"] < viewport["height"]
    assert not overflows(page)
    assert problems.page_errors == []


def test_the_visitors_own_time_is_added_as_a_hint(live_site, open_page):
    with live_site.app.app_context():
        build("operational", utcnow())
        year = utcnow().year - 1
        fail("NC036", Status.CRITICAL, datetime(year, 11, 28, 23, 30, tzinfo=timezone.utc), utcnow())
    page = open_page(live_site, "/", PHONE, timezone_id="Europe/Berlin")
    since = page.locator(".summary-since")
    # 23:30 UTC is half past midnight the next day in Berlin (UTC+1 in November).
    expect(since).to_have_text(f"since 28 Nov {year} 23:30 UTC (29 Nov 00:30 your time)")
    # The hint comes after the UTC text, inside the same <time>, and only once however often the page changes.
    page.evaluate("() => document.querySelector('main').append(document.createElement('p'))")
    expect(page.locator(".summary-since .local-time")).to_have_count(1)


def test_a_visitor_in_utc_gets_no_doubled_time(live_site, open_page):
    with live_site.app.app_context():
        build("partial_outage", utcnow())
    page = open_page(live_site, "/", PHONE, timezone_id="UTC")
    expect(page.locator(".summary-headline")).to_contain_text("Partial outage since")
    assert page.locator(".local-time").count() == 0
    assert "your time" not in page.locator(".summary").inner_text()


def test_times_added_later_by_live_updates_get_their_hint_too(live_site, open_page):
    with live_site.app.app_context():
        build("operational", utcnow())
    page = open_page(live_site, "/", DESKTOP, timezone_id="America/New_York")
    page.evaluate("""() => {
        const time = document.createElement('time');
        time.setAttribute('datetime', '2026-06-01T14:02:00+00:00');
        time.setAttribute('data-local', '');
        time.id = 'late';
        time.textContent = '1 Jun 14:02 UTC';
        document.querySelector('main').append(time);
    }""")
    # New York keeps summer time in June: UTC-4.
    expect(page.locator("#late")).to_have_text("1 Jun 14:02 UTC (10:02 your time)")
    page.evaluate("() => document.querySelector('#late').setAttribute('datetime', '2026-01-10T14:02:00+00:00')")
    expect(page.locator("#late")).to_have_text("1 Jun 14:02 UTC (09:02 your time)")


@pytest.mark.parametrize("path", ["/admin/dashboard", "/admin/posts", "/admin/servers", "/admin/checks",
                                  "/admin/tags", "/admin/users"])
def test_staff_lists_never_widen_a_phone_screen(live_site, browser, path):
    with live_site.app.app_context():
        build("open_incident", utcnow())
        make_tag("customer-notifications-and-billing-announcements")
        db.session.commit()
        add_user("a.very.long.address.for.the.night.shift@operations.example-hosting.example", Role.EDITOR,
                 "Night Shift Operations Editor")
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        sign_in(page, live_site)
        page.goto(f"{live_site.url}{path}")
        expect(page.locator("main h1")).to_be_visible()
        assert not overflows(page), path
    finally:
        context.close()
