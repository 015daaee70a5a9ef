"""The editor tells staff how an incident is reported: ongoing by its newest update, resolved without updates,
and that the state chosen on the form itself starts or moves the timeline."""
from __future__ import annotations

from ninerstatus.models import PostKind, PostStatus

from ..factories import make_post


def editor(app, auth, **post_fields) -> str:
    with app.app_context():
        post_id = make_post("NC035: Zone transfers stopped", **post_fields).id
    auth.login_editor()
    return auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)


def test_the_editor_says_an_incident_without_updates_is_reported_as_resolved(app, auth):
    page = editor(app, auth)
    assert ("Visitors and the status API read this incident as <strong>resolved</strong>: without updates it is "
            "a report of something already over.") in page
    assert "Visitors read it as <strong>resolved</strong> now. Saving with another state adds an update" in page
    assert "The newest update sets the incident’s state" in page


def test_the_editor_says_publishing_a_draft_incident_starts_its_timeline(app, auth):
    page = editor(app, auth, status=PostStatus.DRAFT)
    assert ("Publishing starts this timeline with an update in the state chosen under “Incident” above, so "
            "visitors and the status API show it as ongoing until a “Resolved” update.") in page
    assert "Visitors read it as" not in page


def test_the_editor_says_what_an_incident_is_reported_as_once_it_has_updates(app, auth):
    with app.app_context():
        post = make_post("NC035: Zone transfers stopped")
        post_id = post.id
    auth.login_editor()
    auth.post(f"/admin/posts/{post_id}/updates", {"state": "identified", "body": "<p>A broken ACL.</p>"})
    page = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert "Visitors and the status API read this incident as <strong>identified</strong>." in page


def test_notices_say_nothing_about_incident_states(app, auth):
    page = editor(app, auth, kind=PostKind.NOTICE)
    assert "read this incident as" not in page
