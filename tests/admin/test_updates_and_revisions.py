"""Incident updates on a post's timeline (page and feeds, newest first) and revisions an admin restores."""
from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, PostRevision, PostUpdate, UpdateState
from ninerstatus.timeutil import utcnow

from ..factories import make_post
from .accounts import EDITOR_EMAIL


def _add_update(auth, post_id, state, body):
    return auth.post(f"/admin/posts/{post_id}/updates", {"state": state, "body": body})


def test_updates_form_a_timeline_newest_first_on_the_post_page(app, auth, client):
    with app.app_context():
        post = make_post("Mail delayed", age=timedelta(hours=3))
        post_id, slug, updated_before = post.id, post.slug, post.updated_at
    auth.login(EDITOR_EMAIL)
    assert _add_update(auth, post_id, "identified", "<p>A full disk on the queue.</p>").status_code == 302
    with app.app_context():
        # The second update comes clearly later, whatever the clock's resolution.
        db.session.scalar(select(PostUpdate)).created_at -= timedelta(minutes=5)
        db.session.commit()
    assert _add_update(auth, post_id, "resolved", "<p>All mail delivered.</p>").status_code == 302
    auth.logout()
    page = client.get(f"/posts/{slug}").get_data(as_text=True)
    states = re.findall(r'<strong class="state">(\w+)</strong>', page)
    assert states == ["Resolved", "Identified"]
    assert page.index("All mail delivered") < page.index("A full disk") < page.index("<p>Body</p>")
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert post.updated_at > updated_before
        assert post.updates[0].author.email == EDITOR_EMAIL


def test_updates_appear_in_the_feeds_newest_first(app, auth, client):
    with app.app_context():
        post_id = make_post("Mail delayed").id
    auth.login()
    _add_update(auth, post_id, "investigating", "<p>Looking.</p>")
    with app.app_context():
        db.session.scalar(select(PostUpdate)).created_at -= timedelta(minutes=5)
        db.session.commit()
    _add_update(auth, post_id, "monitoring", "<p>Fix applied.</p>")
    auth.logout()
    rss = ET.fromstring(client.get("/feed.rss").data)
    description = rss.find("channel/item/description").text
    assert description.index("Monitoring") < description.index("Investigating") < description.index("<p>Body</p>")
    atom = ET.fromstring(client.get("/feed.atom").data)
    content = atom.find("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}content").text
    assert "Fix applied." in content


def test_update_bodies_are_sanitised_and_states_checked(app, auth):
    with app.app_context():
        post_id = make_post("Mail delayed").id
    auth.login()
    _add_update(auth, post_id, "resolved", '<p onmouseover="x()">Done<script>alert(1)</script></p>')
    assert _add_update(auth, post_id, "exploded", "<p>x</p>").status_code == 400
    assert _add_update(auth, post_id, "resolved", "").status_code == 400
    with app.app_context():
        updates = db.session.scalars(select(PostUpdate)).all()
        assert len(updates) == 1
        assert "onmouseover" not in updates[0].body_html and "<script" not in updates[0].body_html


def test_an_update_can_be_removed(app, auth):
    with app.app_context():
        post = make_post("Mail delayed")
        post.updates.append(PostUpdate(state=UpdateState.RESOLVED, body_html="<p>typo</p>"))
        db.session.commit()
        post_id, update_id = post.id, post.updates[0].id
    auth.login(EDITOR_EMAIL)
    assert auth.post(f"/admin/posts/{post_id}/updates/{update_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.scalars(select(PostUpdate)).all() == []


def test_an_update_of_another_post_is_not_found(app, auth):
    with app.app_context():
        one = make_post("One")
        one.updates.append(PostUpdate(state=UpdateState.RESOLVED, body_html="<p>x</p>"))
        other_id = make_post("Other").id
        db.session.commit()
        update_id = one.updates[0].id
    auth.login()
    assert auth.post(f"/admin/posts/{other_id}/updates/{update_id}/delete").status_code == 404


def test_the_add_update_page_works_on_its_own(app, auth):
    with app.app_context():
        post_id = make_post("Mail delayed").id
    auth.login(EDITOR_EMAIL)
    page = auth.client.get(f"/admin/posts/{post_id}/updates").get_data(as_text=True)
    assert "Add an update" in page and 'name="state"' in page and "Investigating" in page


def _edit(auth, post_id, title, body):
    return auth.post(f"/admin/posts/{post_id}", {"title": title, "body": body, "kind": "notice",
                                                 "action": "publish"})


def test_every_save_keeps_a_revision_and_an_admin_restores_one(app, auth, client):
    auth.login()
    auth.post("/admin/posts/new", {"title": "First", "body": "<p>one</p>", "kind": "notice", "action": "publish"})
    with app.app_context():
        post_id = db.session.scalar(select(Post.id))
    _edit(auth, post_id, "Second", "<p>two</p>")
    _edit(auth, post_id, "Second", "<p>two</p>")  # unchanged: no new revision
    with app.app_context():
        revisions = db.session.scalars(select(PostRevision).order_by(PostRevision.id)).all()
        assert [(r.title, r.body_html) for r in revisions] == [("First", "<p>one</p>"), ("Second", "<p>two</p>")]
        first_id = revisions[0].id
    listing = client.get(f"/admin/posts/{post_id}/revisions").get_data(as_text=True)
    assert listing.count("/revisions/") == 2
    shown = client.get(f"/admin/posts/{post_id}/revisions/{first_id}").get_data(as_text=True)
    assert "<p>one</p>" in shown and "Restore this version" in shown
    assert auth.post(f"/admin/posts/{post_id}/revisions/{first_id}/restore").status_code == 302
    with app.app_context():
        post = db.session.get(Post, post_id)
        assert (post.title, post.body_html, post.body_text) == ("First", "<p>one</p>", "one")
        assert post.revisions[0].note.startswith("Restored from the version of")
        assert len(post.revisions) == 3


def test_restoring_keeps_text_that_was_only_autosaved(app, auth):
    auth.login()
    auth.post("/admin/posts/new", {"title": "Draft", "body": "<p>saved</p>", "kind": "notice", "action": "draft"})
    with app.app_context():
        post = db.session.scalar(select(Post))
        post_id, first_id = post.id, post.revisions[0].id
    auth.client.post(f"/admin/posts/{post_id}/autosave", data={"title": "Draft", "body": "<p>autosaved</p>",
                                                               "kind": "notice"},
                     headers={"Accept": "application/json", "X-CSRFToken": auth.token()})
    auth.post(f"/admin/posts/{post_id}/revisions/{first_id}/restore")
    with app.app_context():
        bodies = [r.body_html for r in db.session.get(Post, post_id).revisions]
        assert bodies == ["<p>saved</p>", "<p>autosaved</p>", "<p>saved</p>"]


def test_revisions_are_for_admins(app, auth):
    with app.app_context():
        post = make_post("Mail delayed")
        post.revisions.append(PostRevision(title="Old", body_html="<p>old</p>", created_at=utcnow()))
        db.session.commit()
        post_id, revision_id = post.id, post.revisions[0].id
    auth.login(EDITOR_EMAIL)
    assert auth.client.get(f"/admin/posts/{post_id}/revisions").status_code == 403
    assert auth.post(f"/admin/posts/{post_id}/revisions/{revision_id}/restore").status_code == 403
    with app.app_context():
        assert db.session.get(Post, post_id).title == "Mail delayed"


def test_a_revision_of_another_post_is_not_found(app, auth):
    with app.app_context():
        one = make_post("One")
        one.revisions.append(PostRevision(title="Old", body_html=""))
        other_id = make_post("Other").id
        db.session.commit()
        revision_id = one.revisions[0].id
    auth.login()
    assert auth.client.get(f"/admin/posts/{other_id}/revisions/{revision_id}").status_code == 404
