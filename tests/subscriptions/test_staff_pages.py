"""The admins' subscribers page: counts, search, removing one, the CSV export and the mail rate."""
from __future__ import annotations

import csv
import io

from ninerstatus.extensions import db
from ninerstatus.site_settings import site_setting
from ninerstatus.subscriptions.models import Subscriber, SubscriberStatus

from .conftest import confirmed_subscriber


def _fill(app) -> dict[str, int]:
    ids = {"ann": confirmed_subscriber(app, "ann@example.org"),
           "bob": confirmed_subscriber(app, "bob@example.org", status=SubscriberStatus.PENDING),
           "cy": confirmed_subscriber(app, "cy@example.org", status=SubscriberStatus.UNSUBSCRIBED),
           "dee": confirmed_subscriber(app, "dee@example.org", bounces=app.config["SUBSCRIBER_MAX_BOUNCES"]),
           "formula": confirmed_subscriber(app, "=HYPERLINK(\"http://evil\")@example.org")}
    return ids


def test_admins_see_counts_of_each_kind(app, auth):
    _fill(app)
    auth.login()
    page = auth.client.get("/admin/subscribers").get_data(as_text=True)
    assert "<strong>2</strong> confirmed" in page
    assert "<strong>1</strong> waiting" in page
    assert "<strong>1</strong> unsubscribed" in page
    assert "<strong>1</strong> bouncing" in page


def test_search_finds_addresses_and_treats_wildcards_as_text(app, auth):
    _fill(app)
    auth.login()
    page = auth.client.get("/admin/subscribers?q=BOB").get_data(as_text=True)
    assert "bob@example.org" in page and "ann@example.org" not in page
    assert "No address matches" in auth.client.get("/admin/subscribers?q=%25").get_data(as_text=True)


def test_an_admin_removes_one_subscriber(app, auth):
    ids = _fill(app)
    auth.login()
    response = auth.post(f"/admin/subscribers/{ids['ann']}/delete", follow_redirects=True)
    assert "ann@example.org is removed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Subscriber, ids["ann"]) is None
        assert db.session.get(Subscriber, ids["bob"]) is not None
    again = auth.post(f"/admin/subscribers/{ids['ann']}/delete", follow_redirects=True)
    assert "already removed" in again.get_data(as_text=True)


def test_the_export_is_csv_no_spreadsheet_runs_as_a_formula(app, auth):
    _fill(app)
    auth.login()
    response = auth.client.get("/admin/subscribers.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {row["email"] for row in rows} >= {"ann@example.org", "bob@example.org"}
    [formula] = [row for row in rows if "HYPERLINK" in row["email"]]
    assert formula["email"].startswith("'=")
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert {row["email"]: row["status"] for row in rows}["cy@example.org"] == "unsubscribed"


def test_the_rate_is_set_by_an_admin_and_checked(app, auth):
    auth.login()
    auth.post("/admin/subscribers/rate", {"rate": "120"})
    with app.test_request_context():
        assert site_setting("SUBSCRIBER_MAILS_PER_MINUTE") == 120
    refused = auth.post("/admin/subscribers/rate", {"rate": "0"}, follow_redirects=True)
    assert "it was not changed" in refused.get_data(as_text=True)
    with app.test_request_context():
        assert site_setting("SUBSCRIBER_MAILS_PER_MINUTE") == 120


def test_editors_may_not_see_nor_export_subscribers(app, auth):
    _fill(app)
    auth.login_editor()
    assert auth.client.get("/admin/subscribers").status_code == 403
    assert auth.client.get("/admin/subscribers.csv").status_code == 403
    assert auth.post("/admin/subscribers/rate", {"rate": "5"}).status_code == 403


def test_visitors_are_sent_to_sign_in(client, staff):
    assert client.get("/admin/subscribers.csv").status_code == 302
