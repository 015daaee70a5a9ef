"""The staff desk for incidents: state, impact and affected servers on the post form; open incidents listed.

One save publishes an ongoing incident; changing its state later adds one
update, saving again adds none; what is open shows on the dashboard, in the
Posts filter and in the site's summary, by one rule (site_status).
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, IncidentImpact, Post, PostKind, PostStatus, UpdateState
from ninerstatus.site_status import PARTIAL_OUTAGE, site_summary

from ..factories import make_post, make_server
from .accounts import EDITOR_EMAIL

BODY = "<p>Some customers cannot send mail through NC036.</p><p>Incoming mail is not affected.</p>"


def write(auth, path="/admin/posts/new", **fields):
    """Send the post form as a browser would, with the incident fields."""
    data = {"title": "Sending mail fails", "body": BODY, "kind": "incident", "tags": "", "action": "publish",
            "incident_state": "investigating", "impact": "major", "affected_state": "partial_outage",
            "state_note": "", **fields}
    return auth.post(path, data)


def read(app, title="Sending mail fails") -> dict:
    with app.app_context():
        post = db.session.scalar(select(Post).where(Post.title == title))
        return {"id": post.id, "slug": post.slug, "status": post.status, "impact": post.impact,
                "affected": post.affected_state, "servers": [s.code for s in post.servers],
                "updates": [(u.state, u.body_html) for u in post.updates],
                "update_ids": [u.id for u in post.updates]}


def server_id(app, code="NC036") -> int:
    with app.app_context():
        return make_server(code).id


def section(page: str, start: str, end: str) -> str:
    return page[page.index(f'id="{start}"'):page.index(f'id="{end}"')]


def checked(page: str, name: str) -> str | None:
    """The value of the radio button ``name`` that is checked in ``page``."""
    found = re.search(rf'<input checked id="[^"]*" name="{name}" type="radio" value="([^"]*)"', page)
    return found.group(1) if found else None


def open_in_posts(auth) -> str:
    """The rows of the Posts list filtered to open incidents (not the messages above it)."""
    page = auth.client.get("/admin/posts?status=open").get_data(as_text=True)
    return page[page.index("<table"):]


def test_one_save_publishes_an_ongoing_incident_open_everywhere_staff_and_visitors_look(app, auth, client):
    nc036 = server_id(app)
    auth.login_editor()
    response = write(auth, servers=str(nc036))
    assert response.status_code == 302
    post = read(app)
    assert post["status"] is PostStatus.PUBLISHED and post["servers"] == ["NC036"]
    assert (post["impact"], post["affected"]) == (IncidentImpact.MAJOR, AffectedState.PARTIAL_OUTAGE)
    # The post's text says what is wrong; the timeline's first entry says where it stands.
    assert post["updates"] == [(UpdateState.INVESTIGATING,
                                "<p>We are investigating the problem with <strong>NC036</strong>. "
                                "We will post an update here as soon as we know more.</p>")]
    flashed = auth.client.get(response.location).get_data(as_text=True)
    assert "Its timeline now says “Investigating”." in flashed

    dashboard = auth.client.get("/admin/dashboard").get_data(as_text=True)
    listed = section(dashboard, "open-incidents", "drafted-incidents")
    assert "Sending mail fails" in listed and "Investigating" in listed and "major" in listed
    assert "NC036 shown as at least <strong>partial outage</strong>" in listed
    assert f'href="/admin/posts/{post["id"]}/updates?state=resolved"' in listed

    filtered = auth.client.get("/admin/posts?status=open").get_data(as_text=True)
    assert "Sending mail fails" in filtered[filtered.index("<table"):] and "1 post<" in filtered

    with app.test_request_context():
        summary = site_summary()
    assert [i.slug for i in summary.incidents] == [post["slug"]]
    assert summary.incidents[0].state == "investigating" and summary.level == PARTIAL_OUTAGE


def test_changing_the_state_adds_one_update_and_saving_again_adds_none(app, auth):
    auth.login()
    write(auth)
    post_id = read(app)["id"]
    write(auth, f"/admin/posts/{post_id}")                       # a plain re-save
    assert len(read(app)["updates"]) == 1
    write(auth, f"/admin/posts/{post_id}", incident_state="identified")
    write(auth, f"/admin/posts/{post_id}", incident_state="identified")
    updates = read(app)["updates"]
    assert [state for state, _ in updates] == [UpdateState.IDENTIFIED, UpdateState.INVESTIGATING]
    assert updates[0][1] == "<p>We have found the cause of this problem and are working on a fix.</p>"


def test_a_timeline_note_is_plain_text_and_adds_an_update_even_in_the_same_state(app, auth):
    auth.login()
    write(auth)
    post_id = read(app)["id"]
    write(auth, f"/admin/posts/{post_id}", state_note="Still <b>looking</b> & testing.\n\nNext update at 15:00.")
    [newest, _] = read(app)["updates"]
    assert newest == (UpdateState.INVESTIGATING,
                      "<p>Still &lt;b&gt;looking&lt;/b&gt; &amp; testing.</p><p>Next update at 15:00.</p>")


def test_resolving_on_the_form_closes_the_incident_everywhere(app, auth):
    auth.login()
    write(auth)
    post_id = read(app)["id"]
    write(auth, f"/admin/posts/{post_id}", incident_state="resolved")
    assert read(app)["updates"][0][0] is UpdateState.RESOLVED
    assert "Sending mail fails" not in open_in_posts(auth)
    dashboard = auth.client.get("/admin/dashboard").get_data(as_text=True)
    assert "Sending mail fails" not in section(dashboard, "open-incidents", "drafted-incidents")
    with app.test_request_context():
        assert site_summary().incidents == ()


def test_a_draft_keeps_its_state_on_the_timeline_and_publishing_it_adds_nothing_more(app, auth, client):
    auth.login()
    write(auth, action="draft", incident_state="identified")
    post = read(app)
    assert post["status"] is PostStatus.DRAFT and [s for s, _ in post["updates"]] == [UpdateState.IDENTIFIED]
    assert checked(auth.client.get(f"/admin/posts/{post['id']}").get_data(as_text=True), "incident_state") == "identified"
    assert "Sending mail fails" not in open_in_posts(auth)
    write(auth, f"/admin/posts/{post['id']}", incident_state="identified")
    assert [s for s, _ in read(app)["updates"]] == [UpdateState.IDENTIFIED]
    assert "Sending mail fails" in open_in_posts(auth)


def test_an_incident_reported_after_the_fact_stays_so_when_saved_without_the_new_fields(app, auth):
    with app.app_context():
        post_id = make_post("Sending mail fails", body=BODY).id
    auth.login()
    response = auth.post(f"/admin/posts/{post_id}", {"title": "Sending mail fails", "body": BODY,
                                                     "kind": "incident", "action": "publish"})
    assert response.status_code == 302
    assert read(app)["updates"] == []
    page = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert checked(page, "incident_state") == "resolved"


def test_validation_keeps_every_incident_choice_typed(app, auth):
    auth.login()
    response = write(auth, title="", incident_state="monitoring", impact="critical",
                     affected_state="major_outage", state_note="Watching <closely> & calmly")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert (checked(page, "incident_state"), checked(page, "impact"), checked(page, "affected_state")) == (
        "monitoring", "critical", "major_outage")
    assert "Watching &lt;closely&gt; &amp; calmly</textarea>" in page
    with app.app_context():
        assert db.session.scalar(select(Post)) is None


@pytest.mark.parametrize("field, value", [("impact", "catastrophic"), ("incident_state", "panicking"),
                                          ("affected_state", "on fire")])
def test_an_incident_choice_not_offered_is_refused(app, auth, field, value):
    auth.login()
    response = write(auth, **{field: value})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Post)) is None


def test_other_kinds_ignore_the_incident_fields(app, auth):
    auth.login()
    response = write(auth, kind="notice", impact="catastrophic", incident_state="resolved")
    assert response.status_code == 302
    post = read(app)
    assert (post["impact"], post["affected"], post["updates"]) == (None, None, [])


def test_the_form_explains_each_choice_and_notes_which_kind_it_is_for(auth):
    auth.login()
    page = auth.client.get("/admin/posts/new").get_data(as_text=True)
    assert 'data-for-kind="incident"' in page and "For incidents only" in page
    assert 'data-for-kind="maintenance"' in page and "For maintenance posts only" in page
    assert "A service is down for everyone who uses it." in page
    assert "No change: they show what the probes see" in page
    assert (checked(page, "incident_state"), checked(page, "impact"), checked(page, "affected_state")) == (
        "investigating", "minor", "")
    assert "admin/post-kind.js" in page


def test_the_posts_list_shows_an_incidents_state(app, auth):
    auth.login()
    write(auth, incident_state="identified")
    page = auth.client.get("/admin/posts").get_data(as_text=True)
    assert '<span class="incident-state state-identified">identified</span> <strong class="open-mark">open</strong>' in page


def test_resolve_from_the_dashboard_starts_from_the_resolved_state_and_its_standard_text(app, auth):
    nc036 = server_id(app)
    auth.login_editor()
    write(auth, servers=str(nc036))
    post_id = read(app)["id"]
    page = auth.client.get(f"/admin/posts/{post_id}/updates?state=resolved").get_data(as_text=True)
    assert re.search(r'<option[^>]*selected[^>]*value="resolved"|<option value="resolved" selected', page)
    assert "The problem with &lt;strong&gt;NC036&lt;/strong&gt; is resolved" in page
    auth.post(f"/admin/posts/{post_id}/updates", {"state": "resolved", "body": "<p>All good.</p>"})
    assert read(app)["updates"][0] == (UpdateState.RESOLVED, "<p>All good.</p>")
    assert "Sending mail fails" not in open_in_posts(auth)


def test_the_new_actions_need_a_signed_in_account_and_a_token(app, auth, client):
    for path in ("/admin/posts?status=open", "/admin/posts/1/updates?state=resolved"):
        response = client.get(path)
        assert response.status_code == 302 and response.location.startswith("/admin/login"), path
    auth.login(EDITOR_EMAIL)
    response = auth.client.post("/admin/posts/new", data={"title": "No token", "body": BODY, "kind": "incident",
                                                          "incident_state": "investigating", "action": "publish"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(Post)) is None


def test_a_drafted_incident_proposes_its_impact_and_publishes_in_one_save(app, auth):
    with app.app_context():
        server = make_server("NC036")
        post = make_post("NC036: Mail server outage", status=PostStatus.DRAFT, servers=(server,))
        post.origin, post.impact, post.affected_state = "probe", IncidentImpact.MAJOR, AffectedState.MAJOR_OUTAGE
        db.session.commit()
        post_id, server_id_ = post.id, server.id
    auth.login()
    dashboard = auth.client.get("/admin/dashboard").get_data(as_text=True)
    assert ("Publishing declares impact <strong>major</strong> and shows NC036 as at least <strong>major outage"
            "</strong> until it is resolved") in section(dashboard, "drafted-incidents", "suggested-updates")
    page = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert (checked(page, "impact"), checked(page, "affected_state")) == ("major", "major_outage")
    # Sent back as the browser shows it: one press of "Publish now".
    fields = {"title": "NC036: Mail server outage", "body": "<p>Body</p>", "kind": "incident",
              "servers": str(server_id_), "incident_state": "investigating", "impact": "major",
              "affected_state": "major_outage", "action": "publish"}
    auth.post(f"/admin/posts/{post_id}", fields)
    post = read(app, "NC036: Mail server outage")
    assert post["status"] is PostStatus.PUBLISHED and [s for s, _ in post["updates"]] == [UpdateState.INVESTIGATING]
    assert post["affected"] is AffectedState.MAJOR_OUTAGE
    with app.app_context():
        assert db.session.get(Post, post_id).kind is PostKind.INCIDENT


def test_the_next_update_offers_the_step_after_the_newest_one(app, auth):
    auth.login()
    write(auth, incident_state="identified")
    post_id = read(app)["id"]
    for path in (f"/admin/posts/{post_id}", f"/admin/posts/{post_id}/updates"):
        page = auth.client.get(path).get_data(as_text=True)
        assert re.search(r'<option selected value="monitoring">', page), path


def test_a_form_left_open_while_the_timeline_moved_on_does_not_move_it_back(app, auth):
    auth.login()
    write(auth)
    post_id = read(app)["id"]
    page = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    seen = re.search(r'name="timeline_seen" type="hidden" value="(\d+)"', page).group(1)
    auth.post(f"/admin/posts/{post_id}/updates", {"state": "identified", "body": "<p>Found it.</p>"})
    # The first page, still showing "investigating", is saved with a typo fixed.
    response = write(auth, f"/admin/posts/{post_id}", title="Sending mail fails!", timeline_seen=seen)
    assert [s for s, _ in read(app, "Sending mail fails!")["updates"]] == [UpdateState.IDENTIFIED,
                                                                         UpdateState.INVESTIGATING]
    notice = auth.client.get(response.location).get_data(as_text=True)
    assert "Its timeline changed while you were editing (it now says “Identified”)" in notice
    # Shown afresh, the form knows the new timeline and a change of state applies again.
    write(auth, f"/admin/posts/{post_id}", title="Sending mail fails!", incident_state="resolved",
          timeline_seen=str(read(app, "Sending mail fails!")["update_ids"][0]))
    assert read(app, "Sending mail fails!")["updates"][0][0] is UpdateState.RESOLVED
