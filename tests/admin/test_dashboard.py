"""The staff dashboard: drafted incidents published in one click, suggested updates, checks, runners.

Data is made and read back in app contexts of its own: a request must not
share one with the test, or it would reuse a CSRF token cached before sign-in.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Post, PostStatus, UpdateState, Visibility
from ninerstatus.notifications.models import Notification
from ninerstatus.probing import ErrorKind, ProbeResult, Status
from ninerstatus.runner.incidents import open_incident
from ninerstatus.runner.models import RunnerHeartbeat
from ninerstatus.timeutil import utcnow

from ..factories import main_of, make_post, make_server

DRAFT_BODY = "<p>The probes found NC036 down.</p><ul><li>SMTP 587: connection refused</li></ul>"
SUGGESTION = "<p>The probes see NC036 operational again.</p>"


def add_check(server, status: Status, summary: str, *, label: str, age: float = 10,
              visibility: Visibility = Visibility.PUBLIC) -> Check:
    """A check whose latest result (``age`` seconds old) the runner confirmed three minutes earlier."""
    checked_at = utcnow() - timedelta(seconds=age)
    check = Check(server=server, type_name="banner", label=label, host="127.0.0.1", port=2525, settings={},
                  visibility=visibility)
    check.record(ProbeResult(status, summary, checked_at=checked_at,
                             error_kind=None if status is Status.OK else ErrorKind.CONNECT_REFUSED))
    check.state, check.state_since = status.name.lower(), checked_at - timedelta(minutes=3)
    db.session.add(check)
    db.session.commit()
    return check


def drafted_by_the_runner(app) -> int:
    """The id of the incident the runner drafts when NC036's SMTP check finds its port closed."""
    with app.app_context():
        server = make_server("NC036", role="Mail server", city="Amsterdam", country="Netherlands")
        check = add_check(server, Status.CRITICAL, "could not connect: Connection refused (127.0.0.1:2525)",
                          label="SMTP 587")
        server.state, server.state_since = "critical", check.state_since
        post = open_incident(server, "critical", [check], check.state_since)
        db.session.commit()
        return post.id


#: What staff must see beside a drafted incident, and visitors never.
STAFF_ONLY = ("127.0.0.1:2525", "connect_refused", "could not connect", "review the text before publishing")


def probe_draft(app, title: str = "NC036: Mail server outage", *, suggestion: bool = False) -> int:
    """The id of an incident the runner drafted about NC036 (and a resolved update it suggests)."""
    with app.app_context():
        server = make_server("NC036")
        add_check(server, Status.CRITICAL, "connection refused", label="SMTP 587")
        post = make_post(title, DRAFT_BODY, status=PostStatus.DRAFT, servers=(server,))
        post.origin = "probe"
        if suggestion:
            post.pending_update_state, post.pending_update_html = "resolved", SUGGESTION
        db.session.commit()
        return post.id


def post_with_suggestion(app) -> int:
    """The id of a published incident on which the runner suggests a resolved update."""
    with app.app_context():
        post = make_post("NC036: Mail server outage")
        post.pending_update_state, post.pending_update_html = "resolved", SUGGESTION
        db.session.commit()
        return post.id


def read_post(app, post_id: int) -> dict:
    """What the database holds about a post now."""
    with app.app_context():
        post = db.session.get(Post, post_id)
        return {"visible": post.is_visible(), "status": post.status, "published_at": post.published_at,
                "slug": post.slug, "updates": [(u.state, u.body_html, u.author.email if u.author else None)
                                               for u in post.updates],
                "revision_notes": [r.note for r in post.revisions],
                "pending": (post.pending_update_state, post.pending_update_html)}


def dashboard(auth) -> str:
    response = auth.client.get("/admin/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, start: str, end: str) -> str:
    return page[page.index(f'id="{start}"'):page.index(f'id="{end}"')]


def test_the_dashboard_is_for_staff_only(client):
    response = client.get("/admin/dashboard")
    assert response.status_code == 302 and response.location.startswith("/admin/login")


def test_drafted_incidents_show_what_the_probe_saw_and_the_server_now(app, auth):
    probe_draft(app)
    with app.app_context():
        make_post("A draft staff are writing", status=PostStatus.DRAFT)
        published = make_post("NC036: Published already")
        published.origin = "probe"
        db.session.commit()
    auth.login()
    drafted = section(dashboard(auth), "drafted-incidents", "suggested-updates")
    assert "NC036: Mail server outage" in drafted and "SMTP 587: connection refused" in drafted
    assert "NC036 is now <strong>OUTAGE</strong>" in drafted
    assert "A draft staff are writing" not in drafted and "Published already" not in drafted
    assert "Edit first" in drafted


def test_staff_see_the_probe_details_beside_the_draft_and_visitors_never_do(app, auth, client):
    post_id = drafted_by_the_runner(app)
    auth.login_editor()
    drafted = section(dashboard(auth), "drafted-incidents", "suggested-updates")
    body = drafted[drafted.index('<div class="body">'):drafted.index('<div class="notice probe-findings">')]
    notice = drafted[drafted.index('<div class="notice probe-findings">'):]
    assert "Our monitoring shows <strong>NC036</strong> (Mail server, Amsterdam, Netherlands) down" in body
    assert "<strong>SMTP 587</strong> (Banner): outage since" in body and "it refuses connections" in body
    assert not [text for text in STAFF_ONLY if text in body]
    assert [text for text in STAFF_ONLY if text in notice] == list(STAFF_ONLY)
    editor = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert [text for text in STAFF_ONLY if text in editor] == list(STAFF_ONLY)
    assert "Publishing starts this timeline with an update in the state chosen under “Incident” above" in editor

    auth.post(f"/admin/dashboard/posts/{post_id}/publish")
    post = read_post(app, post_id)
    [(state, first, _)] = post["updates"]
    assert state is UpdateState.INVESTIGATING
    # The post's text has named the server with its role and place: the update names it by code only.
    assert first == ("<p>We are investigating the problem with <strong>NC036</strong>. "
                     "We will post an update here as soon as we know more.</p>")
    auth.logout()
    page = main_of(client.get(f"/posts/{post['slug']}"))
    assert "We are investigating the problem with" in page and "it refuses connections" in page
    assert '<div class="body"></div>' not in page
    assert not [text for text in STAFF_ONLY + ("Drafted by the probe runner",) if text in page]


@pytest.mark.parametrize("who", ["admin", "editor"])
def test_one_click_publishes_a_drafted_incident_as_investigating(app, auth, client, who):
    post_id = probe_draft(app)
    auth.login() if who == "admin" else auth.login_editor()
    response = auth.post(f"/admin/dashboard/posts/{post_id}/publish")
    assert response.status_code == 302 and response.location.endswith("/admin/dashboard")
    post = read_post(app, post_id)
    assert post["visible"] and post["status"] is PostStatus.PUBLISHED
    assert [state for state, _, _ in post["updates"]] == [UpdateState.INVESTIGATING]
    assert post["revision_notes"] == ["published from the dashboard"]
    auth.logout()
    assert client.get(f"/posts/{post['slug']}").status_code == 200
    unresolved = client.get("/api/v2/incidents/unresolved.json").get_json()["incidents"]
    assert [i["name"] for i in unresolved] == ["NC036: Mail server outage"]


def test_publishing_twice_changes_nothing_more(app, auth):
    post_id = probe_draft(app)
    auth.login()
    auth.post(f"/admin/dashboard/posts/{post_id}/publish")
    first = read_post(app, post_id)
    again = auth.post(f"/admin/dashboard/posts/{post_id}/publish", follow_redirects=True)
    assert "was already published" in again.get_data(as_text=True)
    assert read_post(app, post_id) == first


def test_publishing_needs_a_post_request_with_a_valid_token(app, auth):
    post_id = probe_draft(app)
    auth.login()
    assert auth.client.get(f"/admin/dashboard/posts/{post_id}/publish").status_code == 405
    assert auth.client.post(f"/admin/dashboard/posts/{post_id}/publish").status_code == 400
    assert not read_post(app, post_id)["visible"]


def test_publishing_the_suggested_update_puts_it_on_the_timeline(app, auth):
    post_id = post_with_suggestion(app)
    auth.login_editor()
    suggested = section(dashboard(auth), "suggested-updates", "checks-in-trouble")
    assert "NC036: Mail server outage" in suggested and "operational again" in suggested
    auth.post(f"/admin/dashboard/posts/{post_id}/suggested-update/publish")
    post = read_post(app, post_id)
    assert post["updates"] == [(UpdateState.RESOLVED, SUGGESTION, "editor@example.net")]
    assert post["pending"] == (None, None)
    assert auth.post(f"/admin/dashboard/posts/{post_id}/suggested-update/publish").status_code == 404
    assert "operational again" not in section(dashboard(auth), "suggested-updates", "checks-in-trouble")


def test_a_dismissed_suggestion_is_gone_without_an_update(app, auth):
    post_id = post_with_suggestion(app)
    auth.login()
    auth.post(f"/admin/dashboard/posts/{post_id}/suggested-update/dismiss")
    post = read_post(app, post_id)
    assert post["updates"] == [] and post["pending"] == (None, None)
    assert "operational again" not in dashboard(auth)


def test_a_suggestion_on_a_draft_says_the_post_is_still_a_draft(app, auth):
    probe_draft(app, suggestion=True)
    auth.login()
    page = dashboard(auth)
    assert "recovered since" in page and "the post is still a draft" in page


def test_checks_not_ok_are_listed_internal_and_stale_ones_too(app, auth):
    with app.app_context():
        server = make_server("NC036")
        add_check(server, Status.OK, "all fine", label="Fine check")
        add_check(server, Status.CRITICAL, "connection refused", label="Broken check")
        add_check(server, Status.WARNING, "certificate 12 days", label="Staff-only check",
                  visibility=Visibility.INTERNAL)
        add_check(server, Status.OK, "fine long ago", label="Quiet check", age=3600)
    auth.login()
    trouble = section(dashboard(auth), "checks-in-trouble", "runners")
    assert "Fine check" not in trouble
    assert trouble.index("Broken check") < trouble.index("Staff-only check") < trouble.index("Quiet check")
    assert "connection refused" in trouble and "(staff only)" in trouble and "no data since" in trouble


def test_editors_see_failing_checks_without_links_to_admin_pages(app, auth):
    probe_draft(app)
    auth.login_editor()
    trouble = section(dashboard(auth), "checks-in-trouble", "runners")
    assert "SMTP 587" in trouble and "/admin/checks/" not in trouble
    auth.logout()
    auth.login()
    assert "/admin/checks/" in dashboard(auth)


def add_heartbeat(app, name: str, silent_for: timedelta) -> None:
    with app.app_context():
        now = utcnow()
        db.session.add(RunnerHeartbeat(id=name, hostname=f"host-{name}", pid=42, started_at=now - timedelta(hours=1),
                                       heartbeat_at=now - silent_for))
        db.session.commit()


def test_a_silent_runner_is_a_warning(app, auth):
    auth.login()
    assert "No probe runner has reported in the last 1 minute" in dashboard(auth)
    add_heartbeat(app, "old", timedelta(minutes=2))
    page = dashboard(auth)
    assert "No probe runner has reported" in page and "silent" in page
    add_heartbeat(app, "new", timedelta(seconds=5))
    page = dashboard(auth)
    assert "No probe runner has reported" not in page and "host-new · pid 42" in page


def test_each_runner_shows_how_late_it_started_probes(app, auth):
    with app.app_context():
        now = utcnow()
        for name, lateness in (("busy", dict(probes=1234, late_probes=37, late_slow_probes=30, lag_p99_seconds=1.34,
                                              lag_max_seconds=8.21)),
                               ("calm", dict(probes=50, late_probes=0, lag_p99_seconds=0.12, lag_max_seconds=0.2))):
            db.session.add(RunnerHeartbeat(id=name, hostname=f"host-{name}", pid=42, started_at=now, heartbeat_at=now,
                                           lag_window_seconds=10, **lateness))
        db.session.commit()
    auth.login()
    page = dashboard(auth)

    def row(name: str) -> str:
        start = page.index(f"host-{name}")
        return page[start:page.index("</tr>", start)]

    assert ('<td><strong class="field-error">late</strong>: 1,234 probes in the last 10 s; 37 started over 1 s after '
            "their slot (p99 lag 1.3 s, worst 8.2 s); 30 of them of checks whose probes time out or run long</td>"
            ) in row("busy")
    assert "<td>50 probes in the last 10 s, on time (p99 lag 0.1 s)</td>" in row("calm")


def test_notifications_that_failed_show_why(app, auth):
    with app.app_context():
        db.session.add(Notification(channel="webhook", payload={"url": "https://hooks.example.net/x"}, attempts=3,
                                    next_attempt_at=utcnow(), last_error="DeliveryError: answered 500"))
        db.session.add(Notification(channel="email", payload={"to": "sent@example.net"}, attempts=1,
                                    sent_at=utcnow()))
        db.session.commit()
    auth.login()
    page = dashboard(auth)
    assert "https://hooks.example.net/x" in page and "answered 500" in page
    assert "sent@example.net" not in page


def test_publishing_a_drafted_incident_from_the_editor_also_opens_its_timeline(app, auth, client):
    post_id = probe_draft(app)
    auth.login_editor()
    response = auth.post(f"/admin/posts/{post_id}", {"title": "NC036: Mail server outage", "body": DRAFT_BODY,
                                                      "kind": "incident", "tags": "", "action": "publish"})
    assert response.status_code == 302
    post = read_post(app, post_id)
    assert post["visible"] and [state for state, _, _ in post["updates"]] == [UpdateState.INVESTIGATING]
    assert post["updates"][0][1].startswith("<p>We are investigating")
    auth.logout()
    unresolved = client.get("/api/v2/incidents/unresolved.json").get_json()["incidents"]
    assert [i["name"] for i in unresolved] == ["NC036: Mail server outage"]
