"""In a real browser: the check form shows only the fields that apply, and a pasted URL fills it in at once.

The TLS fields hide while the check will not use TLS and come back with what
was typed in them; changing the type keeps what was typed; a URL pasted into
the host field fills in host, port, TLS mode and path before anything is sent.
Without JavaScript, the server does the same when the form is sent.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from ninerstatus.checks.models import Check
from ninerstatus.probing import TlsMode

from ..factories import make_server
from .conftest import sign_in, watch

pytestmark = pytest.mark.browser

PASTE = """(element, text) => {
    const data = new DataTransfer();
    data.setData("text/plain", text);
    element.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
}"""


@pytest.fixture
def server_id(live_site) -> int:
    with live_site.app.app_context():
        return make_server("NC041", role="Web server").id


def new_check(page: Page, live_site, type_name: str, server_id: int) -> None:
    sign_in(page, live_site)
    page.goto(f"{live_site.url}/admin/checks/new/{type_name}?server={server_id}")


def paste(page: Page, selector: str, text: str) -> None:
    """Paste ``text`` into the field, as a clipboard paste does (the page may take it over)."""
    page.locator(selector).evaluate(PASTE, text)


def expect_values(page: Page, **values: str) -> None:
    """Each field (by id) comes to hold its value."""
    for field_id, value in values.items():
        expect(page.locator(f"#{field_id}")).to_have_value(value)


def test_tls_fields_hide_without_tls_and_come_back_with_what_was_typed(page, live_site, server_id):
    problems = watch(page)
    new_check(page, live_site, "http", server_id)
    tls_group = page.locator("#group-tls")
    # Port 443 by default: TLS from the first byte, so the TLS fields apply.
    expect(tls_group).to_be_visible()
    page.fill("#host", "panel.example.net")
    page.fill("#tls_name", "node1.example.net")
    page.select_option("#tls_mode", "none")
    expect(tls_group).to_be_hidden()
    page.select_option("#tls_mode", "implicit")
    expect(tls_group).to_be_visible()
    expect(page.locator("#tls_name")).to_have_value("node1.example.net")
    # Left to the port: 80 has no TLS, 443 has.
    page.select_option("#tls_mode", "")
    page.fill("#port", "80")
    expect(tls_group).to_be_hidden()
    page.fill("#port", "443")
    expect(tls_group).to_be_visible()
    page.fill("#port", "80")
    page.click("button:has-text('Save check')")
    page.wait_for_url(f"{live_site.url}/admin/checks")
    [check] = live_site.query(select(Check))
    # Hidden is not removed: what was typed is saved as it was.
    assert (check.port, check.tls_mode, check.tls_name) == (80, TlsMode.NONE, "node1.example.net")
    assert problems.console_errors == [] and problems.page_errors == []


def test_a_type_without_tls_has_no_tls_fields(page, live_site, server_id):
    new_check(page, live_site, "dns", server_id)
    expect(page.locator("h1")).to_have_text("New DNS check")
    expect(page.locator("#group-tls")).to_have_count(0)
    expect(page.locator("#tls_mode")).to_have_count(0)


def test_a_pasted_url_fills_in_host_port_tls_and_path_at_once(page, live_site, server_id):
    problems = watch(page)
    new_check(page, live_site, "http", server_id)
    paste(page, "#host", "https://panel.example.net:8443/login?x=1")
    expect_values(page, host="panel.example.net", port="8443", tls_mode="implicit", **{"settings-path": "/login?x=1"})
    expect(page.locator("#url-note")).to_contain_text("Taken from the URL: host panel.example.net, port 8443")
    # Port 8443 has no TLS of its own, but the https:// URL said TLS: the TLS fields stay.
    expect(page.locator("#group-tls")).to_be_visible()
    # A plain http:// URL typed rather than pasted is read once the field is left.
    page.fill("#host", "http://intranet.example.net/health")
    page.locator("#host").press("Tab")
    expect_values(page, host="intranet.example.net", port="80", tls_mode="none")
    expect(page.locator("#group-tls")).to_be_hidden()
    page.click("button:has-text('Save check')")
    page.wait_for_url(f"{live_site.url}/admin/checks")
    [check] = live_site.query(select(Check))
    assert (check.host, check.port, check.tls_mode) == ("intranet.example.net", 80, TlsMode.NONE)
    with live_site.app.app_context():
        assert check.probe_settings()["path"] == "/health"
    assert problems.console_errors == [] and problems.page_errors == []


def test_a_pasted_ftp_url_moves_its_credentials_to_the_test_account(page, live_site, server_id):
    new_check(page, live_site, "ftp", server_id)
    paste(page, "#host", "ftps://probe%40example.net:s3cr%3At@files.example.net/pub")
    expect_values(page, host="files.example.net", port="990", tls_mode="implicit",
                  **{"settings-username": "probe@example.net", "settings-password": "s3cr:t"})
    expect(page.locator("#url-note")).to_contain_text("Left out (not used by this check type): /pub.")
    expect(page.locator("#url-note")).not_to_contain_text("s3cr")


def test_a_url_of_another_scheme_is_left_for_the_server_to_refuse(page, live_site, server_id):
    new_check(page, live_site, "http", server_id)
    page.fill("#host", "ftp://files.example.net/")
    page.locator("#host").press("Tab")
    expect(page.locator("#host")).to_have_value("ftp://files.example.net/")
    expect(page.locator("#url-note")).to_be_hidden()
    page.click("button:has-text('Save check')")
    expect(page.locator("#host-error")).to_have_text(
        "HTTP(S) checks do not read ftp:// URLs: paste a URL starting with http:// or https://, "
        "or give only the host.")


def test_changing_the_type_keeps_what_was_typed(page, live_site, server_id):
    problems = watch(page)
    new_check(page, live_site, "http", server_id)
    page.fill("#label", "Customer files")
    page.fill("#host", "files.example.net")
    page.fill("#interval_seconds", "120")
    page.select_option("#type_name", "ftp")
    page.click("#change-type")
    expect(page.locator("h1")).to_have_text("New FTP check")
    expect(page.locator("#label")).to_have_value("Customer files")
    expect(page.locator("#host")).to_have_value("files.example.net")
    expect(page.locator("#interval_seconds")).to_have_value("120")
    expect(page.locator("#settings-path")).to_have_count(0)
    expect(page.locator("#settings-username")).to_be_visible()
    # The form now saves an FTP check.
    page.select_option("#tls_mode", "implicit")
    page.click("button:has-text('Save check')")
    page.wait_for_url(f"{live_site.url}/admin/checks")
    [check] = live_site.query(select(Check))
    assert (check.type_name, check.label, check.interval_seconds) == ("ftp", "Customer files", 120)
    assert problems.console_errors == [] and problems.page_errors == []


def test_without_javascript_the_server_reads_the_url_and_shows_everything(browser, live_site, server_id):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        new_check(page, live_site, "http", server_id)
        page.fill("#host", "http://panel.example.net:8080/status")
        page.click("button:has-text('Save check')")
        expect(page.locator("#url-note")).to_contain_text(
            "Taken from the URL: host panel.example.net, port 8080, TLS “No TLS”, path /status.")
        expect(page.locator("#host")).to_have_value("panel.example.net")
        expect(page.locator("#settings-path")).to_have_value("/status")
        # Without the script the TLS fields stay in view, marked as applying only with TLS.
        expect(page.locator("#group-tls")).to_be_visible()
        expect(page.locator("#group-tls .tls-only")).to_contain_text("apply only when the check uses TLS")
        assert live_site.query(select(Check)) == []
        page.click("button:has-text('Save check')")
        page.wait_for_url(f"{live_site.url}/admin/checks")
        [check] = live_site.query(select(Check))
        assert (check.host, check.port, check.tls_mode) == ("panel.example.net", 8080, TlsMode.NONE)
    finally:
        context.close()


@pytest.mark.parametrize("type_name", ["http", "ftp", "dns"])
def test_on_a_phone_the_form_fits_the_screen(browser, live_site, server_id, type_name):
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    try:
        new_check(page, live_site, type_name, server_id)
        expect(page.locator("#group-schedule")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
