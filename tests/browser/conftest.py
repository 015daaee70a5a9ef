"""Fixtures for browser tests: the site served for real on 127.0.0.1, and Debian's headless Chromium.

The browser is Debian's ``chromium`` driven by Playwright for Python; no
browser is ever downloaded. The site runs in a thread with werkzeug's
server on a migrated SQLite copy, one per test.
"""
from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, field

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from ninerstatus.extensions import db
from ninerstatus.models import Role

from ..admin.accounts import ADMIN_EMAIL, PASSWORD, add_user
from ..conftest import dispose, make_test_app
from ..waiting import PATIENCE

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# What a page should come to show, it may take its time to show on a loaded machine (Playwright's
# own default is 5 s); the limit only turns a page that never gets there into a failure.
expect.set_options(timeout=PATIENCE * 1000)


@dataclass
class LiveSite:
    """The running site: its app (for looking into the database) and its base URL."""

    app: Flask
    url: str

    def query(self, statement):
        """Run a select against the site's database and return every row's first column."""
        with self.app.app_context():
            db.session.expire_all()
            return db.session.scalars(statement).all()


@pytest.fixture
def live_site(tmp_path, migrated_sqlite):
    """The site on a fresh migrated SQLite database, with an admin account, on a free local port."""
    path = tmp_path / "site.sqlite"
    shutil.copyfile(migrated_sqlite, path)
    app = make_test_app(f"sqlite:///{path}", tmp_path, SERVER_NAME=None)
    with app.app_context():
        add_user(ADMIN_EMAIL, Role.ADMIN, "Ann Admin")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveSite(app, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(timeout=10)
    dispose(app)


@pytest.fixture(scope="session")
def browser() -> Browser:
    """Debian's Chromium, headless, for the whole run."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Problems:
    """What went wrong in a page that a test would not otherwise see."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def watch(page: Page) -> Problems:
    """Record console errors (CSP violations among them), uncaught script errors and dialogs of ``page``."""
    problems = Problems()

    def on_console(message):
        # The site has no favicon; the browser asking for one is not a problem of the page.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.console_errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))

    def on_dialog(dialog):
        problems.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return problems


@pytest.fixture
def page(browser):
    """A fresh browser tab with its own cookies."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def visitor(browser):
    """Another tab, in a browser profile of its own: an anonymous visitor."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


def sign_in(page: Page, site: LiveSite) -> None:
    """Sign in through the sign-in page as the admin."""
    page.goto(f"{site.url}/admin/login")
    page.fill("input[name=email]", ADMIN_EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{site.url}/admin/dashboard")
