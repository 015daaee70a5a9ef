"""A check staff switched off is invisible to visitors everywhere: pages, sparklines, figures, API, feeds."""
from __future__ import annotations

from datetime import timedelta

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from .api.conftest import add_check
from .factories import main_of
from .history.test_display import write_days
from .public_routes import EXPECTED, make_routed_site, route_urls


def test_a_disabled_public_check_shows_nowhere_a_visitor_looks(app, client):
    with app.app_context():
        post = make_routed_site()
        server = post.servers[0]
        enabled = db.session.scalar(db.select(Check).where(Check.server_id == server.id))
        disabled = add_check(server, Status.CRITICAL, "disabled-check-marker", label="disabled-check-marker",
                             enabled=False)
        # Half past the hour, so no result sits on the edge of a window while the pages render.
        now = utcnow() - timedelta(minutes=30)
        write_days(enabled, 3, now=now)
        write_days(disabled, 3, down_on=(0, 1, 2), now=now)
        urls = route_urls(app, post)
    for url in urls:
        response = client.get(url)
        assert response.status_code == EXPECTED.get(url, 200), url
        assert "disabled-check-marker" not in response.get_data(as_text=True), url
    page = main_of(client.get("/servers/NC036"))
    assert "Submission: last 24 hours" in page   # the enabled check's sparkline is there
    # The switched-off check's outages count in no figure and no day's bar.
    # Three days of data: the last 24 hours, and the time since the first result.
    assert page.count("<dd>100 %</dd>") == 2 and 'class="bar bar-outage"' not in page
    assert client.get("/api/servers/NC036").get_json()["uptime"]["24h"] == 1.0
