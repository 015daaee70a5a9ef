"""Staff see what the probes saw change after they edited a drafted incident, beside their words, never over them.

Data is made and read back in app contexts of its own, as in test_dashboard.py.
"""
from __future__ import annotations

from datetime import timedelta

from ninerstatus.extensions import db
from ninerstatus.models import Post, UpdateState
from ninerstatus.probing import Status
from ninerstatus.runner.incidents import PROBE_ORIGIN

from ..regional_site import from_agent, make_regional_site
from .test_dashboard import dashboard, section

STAFF_BODY = "<p>Some customers cannot send mail through NC036. We are on it.</p>"
NOW_SHOWS = "Our monitoring now shows <strong>NC036</strong> partly down since"


def regional_draft(app) -> tuple:
    """NC036's regional draft, and what it takes to make a quorum of locations see it down."""
    with app.app_context():
        site = make_regional_site()
        post = db.session.scalars(db.select(Post).where(Post.origin == PROBE_ORIGIN)).one()
        return site, post.id


def frankfurt_confirms_the_failure(app, site) -> None:
    with app.app_context():
        for seconds in (5, 65):
            from_agent(site.frankfurt, site.submission, Status.CRITICAL, site.now + timedelta(seconds=seconds))


def test_an_edited_draft_keeps_its_words_and_shows_the_change_as_a_suggested_update(app, auth):
    site, post_id = regional_draft(app)
    auth.login_editor()
    response = auth.post(f"/admin/posts/{post_id}", {
        "title": "Sending mail fails for some customers", "body": STAFF_BODY, "kind": "incident", "tags": "",
        "servers": [str(site.server)], "impact": "minor", "affected_state": "degraded", "action": "draft"})
    assert response.status_code == 302
    editor = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert "The probes see the trouble changed" not in editor      # nothing has changed yet

    frankfurt_confirms_the_failure(app, site)
    editor = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert "The probes see the trouble changed" in editor and NOW_SHOWS in editor
    assert "Some customers cannot send mail through NC036" in editor     # staff's text, in the editor
    page = dashboard(auth)
    drafted = section(page, "drafted-incidents", "suggested-updates")
    assert "its trouble changed after this text was edited" in drafted and "recovered since" not in drafted
    assert STAFF_BODY in drafted and NOW_SHOWS not in drafted
    suggested = section(page, "suggested-updates", "checks-in-trouble")
    assert NOW_SHOWS in suggested and "the post is still a draft" in suggested

    auth.post(f"/admin/dashboard/posts/{post_id}/suggested-update/publish")
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.body_html == STAFF_BODY and post.pending_update_state is None
        assert post.updates[0].state is UpdateState.INVESTIGATING and NOW_SHOWS in post.updates[0].body_html


def test_an_untouched_draft_is_reworded_and_the_editor_shows_no_note(app, auth):
    site, post_id = regional_draft(app)
    frankfurt_confirms_the_failure(app, site)
    auth.login_editor()
    editor = auth.client.get(f"/admin/posts/{post_id}").get_data(as_text=True)
    assert "NC036: Mail server partial outage" in editor and "2 of the 3 locations we test it from" in editor
    assert "The probes see the trouble changed" not in editor
    assert "its trouble changed" not in section(dashboard(auth), "drafted-incidents", "suggested-updates")
