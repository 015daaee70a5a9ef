"""A mirror page in Debian's Chromium: every request it makes stays on the mirror, its scripts run
without errors, and its banner tells a reader on a later day which day the copy is of."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from ..mirror.conftest import ctx, mirror_site, nginx  # noqa: F401  (the mirror tests' site and nginx)
from .conftest import watch

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("backend", ["sqlite"])]


def test_a_mirror_page_asks_only_the_mirror_and_says_the_day_of_an_older_copy(ctx, nginx, browser):  # noqa: F811
    server = make_server("NC036")
    make_post("Mail delays", servers=(server,))
    as_of = utcnow() - timedelta(days=3)
    with mirror_site(ctx, nginx.base_url) as site:
        site.export(nginx.root / "status", now=as_of)

    context = browser.new_context()
    try:
        page = context.new_page()
        problems = watch(page)
        hosts: list[str] = []
        page.on("request", lambda request: hosts.append(urlsplit(request.url).netloc))
        page.goto(f"{nginx.base_url}posts/mail-delays")
        banner = page.locator("time[data-mirror-as-of]")
        day = f"{as_of.day} {as_of:%b}"
        expect(banner).to_contain_text(re.compile(rf"^{day} (\d{{4}} )?{as_of:%H:%M} UTC"))
        page.wait_for_load_state("networkidle")  # widgets.js has asked for the servers' states
    finally:
        context.close()

    assert problems.console_errors == [] and problems.page_errors == []
    assert set(hosts) == {f"127.0.0.1:{nginx.port}"}
    assert len(hosts) > 3  # the page, its stylesheet and scripts at least
