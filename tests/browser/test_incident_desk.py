"""Staff at the incident desk in a real browser: one save publishes an ongoing incident, the dashboard resolves it."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, IncidentImpact, Post, PostUpdate, UpdateState

from ..factories import make_server
from .conftest import sign_in, watch

pytestmark = pytest.mark.browser


def write_incident(page, title: str) -> None:
    page.click("text=Write a new post")
    page.fill("input[name=title]", title)
    editor = page.locator("#post-form trix-editor")
    editor.wait_for()
    editor.click()
    page.keyboard.type("Some customers cannot send mail through NC036.")


def test_publish_an_ongoing_incident_in_one_save_then_resolve_it_from_the_dashboard(page, live_site):
    problems = watch(page)
    with live_site.app.app_context():
        make_server("NC036")
    sign_in(page, live_site)
    write_incident(page, "Sending mail fails")
    page.check("input[name=impact][value=major]")
    page.check("input[name=affected_state][value=partial_outage]")
    page.check("label:has-text('NC036') input[name=servers]")
    page.click("button:has-text('Publish now')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+$"))
    expect(page.locator(".notice").first).to_contain_text("Its timeline now says “Investigating”.")
    [post] = live_site.query(select(Post))
    assert (post.impact, post.affected_state) == (IncidentImpact.MAJOR, AffectedState.PARTIAL_OUTAGE)
    assert live_site.query(select(PostUpdate.state)) == [UpdateState.INVESTIGATING]

    page.click("nav >> text=Dashboard")
    listed = page.locator("#open-incidents article")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Sending mail fails")
    expect(listed).to_contain_text("Investigating")
    listed.locator("text=Resolve…").click()
    expect(page.locator(".update-form select[name=state]")).to_have_value("resolved")
    page.click(".update-form button:has-text('Add update')")
    page.wait_for_url(re.compile(r"/admin/posts/\d+#timeline$"))
    page.click("nav >> text=Dashboard")
    expect(page.locator("#open-incidents")).to_contain_text("None: no published incident")
    with live_site.app.app_context():
        db.session.expire_all()
    assert live_site.query(select(PostUpdate.state).order_by(PostUpdate.id)) == [UpdateState.INVESTIGATING,
                                                                                UpdateState.RESOLVED]
    assert problems.page_errors == [] and problems.console_errors == []


def test_the_incident_fields_show_only_for_incidents(page, live_site):
    sign_in(page, live_site)
    page.goto(live_site.url + "/admin/posts/new")
    incident, window = page.locator("[data-for-kind=incident]"), page.locator("[data-for-kind=maintenance]")
    expect(incident).to_be_visible()
    expect(window).to_be_hidden()
    expect(page.locator("text=For incidents only")).to_be_hidden()
    page.check("input[name=kind][value=maintenance]")
    expect(incident).to_be_hidden()
    expect(window).to_be_visible()
    page.check("input[name=kind][value=notice]")
    expect(incident).to_be_hidden()
    expect(window).to_be_hidden()


@pytest.fixture
def page_without_javascript(browser):
    """A tab of a browser profile with JavaScript off."""
    context = browser.new_context(java_script_enabled=False)
    yield context.new_page()
    context.close()


@pytest.fixture
def page_in_los_angeles(browser):
    """A tab of a browser in Los Angeles, in American English: its own clock would say "6:02:07 AM"."""
    context = browser.new_context(timezone_id="America/Los_Angeles", locale="en-US")
    yield context.new_page()
    context.close()


def test_without_javascript_every_part_shows_with_a_note_of_its_kind(page_without_javascript, live_site):
    page = page_without_javascript
    sign_in(page, live_site)
    page.goto(live_site.url + "/admin/posts/new")
    expect(page.locator("[data-for-kind=incident]")).to_be_visible()
    expect(page.locator("[data-for-kind=maintenance]")).to_be_visible()
    expect(page.locator("text=For incidents only")).to_be_visible()


def test_autosave_says_its_time_in_24_hour_utc_whatever_the_browsers_zone(page_in_los_angeles, live_site):
    page = page_in_los_angeles
    sign_in(page, live_site)
    page.click("text=Write a new post")
    page.fill("input[name=title]", "Half-written notice")
    with page.expect_response(re.compile(r"/autosave$")) as answer:
        page.locator("#post-form trix-editor").click()
        page.keyboard.type("The first lines")
    saved_at = datetime.fromisoformat(answer.value.json()["saved_at"]).astimezone(timezone.utc)
    expect(page.locator(".autosave-status")).to_have_text(f"Draft saved at {saved_at:%H:%M} UTC.")
    assert page.evaluate("new Date().getTimezoneOffset()") != 0     # the browser really is elsewhere
