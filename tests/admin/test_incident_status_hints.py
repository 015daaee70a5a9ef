"""The editor tells staff how an incident is reported: ongoing by its newest update, resolved without updates."""
from __future__ import annotations

from ninerstatus.models import PostKind

from ..factories import make_post


def editor(app, auth, **post_fields) -> str:
    with app.app_context():
        post_id = make_post("NC035: Zone transfers stopped", **post_fields).id
    auth.login_editor()
    return auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)


def test_the_editor_says_an_incident_without_updates_is_reported_as_resolved(app, auth):
    page = editor(app, auth)
    assert "one with no updates reads as a report after the fact and is reported as resolved" in page
    assert ("Visitors and the status API read this incident as <strong>resolved</strong>: without updates it is "
            "a report of something already over. Add an “Investigating” update to show it as ongoing.") in page
    assert "The newest update sets the incident’s state" in page


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
