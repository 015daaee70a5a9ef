"""The status summary with the page cache on: kept a few seconds for every visitor, never longer."""
from __future__ import annotations

from ninerstatus.models import Role
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from .admin.accounts import ADMIN_EMAIL, add_user
from .admin.conftest import AuthActions
from .site_states import build, fail, open_incident
from .summary_text import headline, summary_html, summary_items
from .test_pagecache import SECONDS, app_config, clock  # noqa: F401  (fixtures: the cache on, with a test clock)


def page(client, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_new_state_reaches_visitors_once_the_period_is_over_and_not_before(app, client, clock):
    now = utcnow()
    with app.app_context():
        build("operational", now)
    assert headline(page(client)) == "All systems operational"
    with app.app_context():
        # The probe runner, another process, records an outage: nothing empties this worker's cache.
        fail("NC036", Status.CRITICAL, now, now)
    clock.now += SECONDS - 0.1
    assert headline(page(client)) == "All systems operational"
    clock.now += 0.2
    assert headline(page(client)).startswith("Partial outage since ")
    with app.app_context():
        open_incident(now)
    clock.now += SECONDS + 0.1
    assert [item.split(" Identified")[0] for item in summary_items(page(client))] == ["IMAP logins failing on NC036"]


def test_a_page_kept_for_visitors_shows_the_summary_staff_see(app, client, clock):
    with app.app_context():
        add_user(ADMIN_EMAIL, Role.ADMIN, "Ann Admin")
        build("partial_outage", utcnow())
    staff = AuthActions(app.test_client())
    staff.login()
    staff_summary = summary_html(page(staff.client))
    assert summary_html(page(client)) == staff_summary
    # The visitor's page was kept, and what staff draw for themselves never replaces it.
    page(staff.client)
    assert summary_html(page(client)) == staff_summary
