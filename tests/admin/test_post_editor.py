"""The post editor: write, publish, schedule, draft, preview, autosave, filter, delete."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, PostKind, PostStatus, Tag
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from .accounts import EDITOR_EMAIL

BODY = ("<h3>What happened</h3><p>Mail to <strong>NC036</strong> was <em>delayed</em>.</p>"
        "<ul><li>queued</li><li>delivered</li></ul><p><a href=\"https://example.org/x\">details</a></p>")


def _post(app, title: str) -> Post:
    with app.app_context():
        db.session.expire_all()
        post = db.session.scalar(select(Post).where(Post.title == title))
        if post is not None:
            post.tags, post.servers, post.revisions, post.updates, post.author  # noqa: B018  (load them now)
        return post


def _write(auth, action="publish", **fields):
    data = {"title": "Mail delayed", "body": BODY, "kind": "incident", "tags": "", "action": action, **fields}
    return auth.post("/admin/posts/new", data)


def test_publish_now_makes_a_formatted_post_visitors_see(app, auth, client):
    auth.login(EDITOR_EMAIL)
    response = _write(auth)
    post = _post(app, "Mail delayed")
    assert response.location == f"/admin/posts/{post.id}"
    assert post.status is PostStatus.PUBLISHED and post.kind is PostKind.INCIDENT
    assert abs(post.published_at - utcnow()) < timedelta(minutes=1)
    assert post.author.email == EDITOR_EMAIL
    page = client.get("/").get_data(as_text=True)
    assert "<h3>What happened</h3>" in page and "<strong>NC036</strong>" in page and "<li>queued</li>" in page
    assert '<a href="https://example.org/x" rel="noopener nofollow">details</a>' in page


def test_saved_body_is_sanitised(app, auth):
    auth.login()
    _write(auth, body='<p onclick="x()">Hi<script>alert(1)</script></p><img src=x onerror=alert(1)><div>kept text</div>')
    post = _post(app, "Mail delayed")
    assert post.body_html.startswith("<p>Hi") and "kept text" in post.body_html
    for banned in ("<script", "onclick", "<img", "onerror", "<div"):
        assert banned not in post.body_html


def test_tags_pick_existing_ones_and_create_new_ones(app, auth):
    with app.app_context():
        make_post("Older", tags=("Mail",))
    auth.login()
    _write(auth, tags=" mail ,  Brand   new, brand NEW, ,")
    post = _post(app, "Mail delayed")
    assert sorted(t.name for t in post.tags) == ["Brand new", "Mail"]
    with app.app_context():
        assert db.session.scalar(select(Tag.slug).where(Tag.name == "Brand new")) == "brand-new"
        assert len(db.session.scalars(select(Tag)).all()) == 2


def test_affected_servers_are_ticked_in_the_form(app, auth):
    with app.app_context():
        nc036, _ = make_server("NC036"), make_server("NC041")
        nc036_id = nc036.id
    auth.login()
    _write(auth, servers=str(nc036_id))
    post = _post(app, "Mail delayed")
    assert [s.code for s in post.servers] == ["NC036"]
    page = auth.client.get(f"/admin/posts/{post.id}").get_data(as_text=True)
    assert re.search(rf'checked[^>]*value="{nc036_id}"|value="{nc036_id}"[^>]*checked', page)


def test_save_as_draft_keeps_the_post_off_the_site(app, auth, client):
    auth.login()
    _write(auth, action="draft")
    post = _post(app, "Mail delayed")
    assert post.status is PostStatus.DRAFT and post.published_at is None
    assert client.get(f"/posts/{post.slug}").status_code == 404


def test_schedule_for_later_appears_by_itself_when_its_time_comes(app, auth, client):
    auth.login()
    when = (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
    _write(auth, action="schedule", publish_at=when.strftime("%Y-%m-%dT%H:%M"))
    post = _post(app, "Mail delayed")
    assert post.status is PostStatus.SCHEDULED and post.published_at == when
    auth.logout()
    assert client.get(f"/posts/{post.slug}").status_code == 404
    with app.app_context():
        db.session.get(Post, post.id).published_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get(f"/posts/{post.slug}").status_code == 200


@pytest.mark.parametrize("publish_at, message", [
    ("", "Give a date and time (UTC) to schedule the post for."),
    ("2001-01-01T10:00", "That time has passed"),
])
def test_schedule_needs_a_future_time(app, auth, publish_at, message):
    auth.login()
    response = _write(auth, action="schedule", publish_at=publish_at)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _post(app, "Mail delayed") is None


def test_schedule_form_says_times_are_utc_and_hints_local_time(auth):
    auth.login()
    page = auth.client.get("/admin/posts/new").get_data(as_text=True)
    assert "Publish at (UTC)" in page and "Times are UTC" in page and "data-local-time-for" in page


def test_validation_error_shows_the_form_again_with_everything_typed(app, auth):
    auth.login()
    response = _write(auth, title="", tags="keep, these", body="<p>Precious words</p>", kind="maintenance")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Give the post a title." in page and "Nothing was saved yet" in page
    assert "&lt;p&gt;Precious words&lt;/p&gt;" in page and 'value="keep, these"' in page
    assert re.search(r'value="maintenance" checked|checked[^>]*value="maintenance"', page)


def test_publishing_an_empty_body_is_refused_but_a_draft_may_be_empty(app, auth):
    auth.login()
    assert "Write the post" in _write(auth, body="  ").get_data(as_text=True)
    assert _write(auth, body="", action="draft").status_code == 302


def test_editing_keeps_the_address_and_the_original_date(app, auth):
    with app.app_context():
        post = make_post("Original title", age=timedelta(days=3))
        post_id, slug, published = post.id, post.slug, post.published_at
    auth.login()
    response = auth.post(f"/admin/posts/{post_id}", {"title": "Better title", "body": "<p>New</p>",
                                                    "kind": "notice", "action": "publish"})
    assert response.status_code == 302
    post = _post(app, "Better title")
    assert post.slug == slug and post.published_at == published and post.body_html == "<p>New</p>"


def test_unpublishing_returns_a_post_to_drafts(app, auth, client):
    with app.app_context():
        post_id, slug = (p := make_post("Live")).id, p.slug
    auth.login()
    auth.post(f"/admin/posts/{post_id}", {"title": "Live", "body": "<p>x</p>", "kind": "notice", "action": "draft"})
    auth.logout()
    assert client.get(f"/posts/{slug}").status_code == 404


def test_slugs_stay_unique(app, auth):
    auth.login()
    _write(auth)
    _write(auth)
    with app.app_context():
        assert sorted(db.session.scalars(select(Post.slug))) == ["mail-delayed", "mail-delayed-2"]


def test_preview_shows_the_post_as_visitors_will_see_it_and_saves_nothing(app, auth):
    with app.app_context():
        server_id = make_server("NC036").id
    auth.login()
    response = auth.post("/admin/posts/preview", {"title": "Not yet <b>", "body": BODY, "kind": "maintenance",
                                                  "tags": "brand new", "servers": str(server_id)})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    assert "Preview: nothing is saved or published." in page
    assert '<article class="post post-maintenance">' in page and "<h3>What happened</h3>" in page
    assert "Not yet &lt;b&gt;" in page and ">brand new</a>" in page and ">NC036</a>" in page
    with app.app_context():
        assert db.session.scalars(select(Post)).all() == [] and db.session.scalars(select(Tag)).all() == []


def test_preview_of_an_existing_draft_shows_its_unsaved_changes(app, auth):
    with app.app_context():
        post_id = make_post("Draft", status=PostStatus.DRAFT).id
    auth.login()
    page = auth.post(f"/admin/posts/{post_id}/preview", {"title": "Draft v2", "body": "<p>Changed</p>",
                                                         "kind": "notice"}).get_data(as_text=True)
    assert "Draft v2" in page and "<p>Changed</p>" in page
    assert _post(app, "Draft").body_html == "<p>Body</p>"


def test_preview_needs_a_signed_in_account(client, staff):
    assert client.post("/admin/posts/preview", data={"title": "x"}).status_code == 400  # no token, no session


def _autosave(auth, url="/admin/posts/autosave", **fields):
    data = {"title": "Half written", "body": "<p>So far</p>", "kind": "incident", **fields}
    return auth.client.post(url, data={**data, "csrf_token": auth.token()},
                            headers={"Accept": "application/json", "X-CSRFToken": auth.token()})


def test_autosave_creates_a_draft_then_keeps_saving_it(app, auth, client):
    auth.login(EDITOR_EMAIL)
    first = _autosave(auth)
    assert first.status_code == 200
    saved = first.get_json()
    post = _post(app, "Half written")
    assert saved["edit_url"] == f"/admin/posts/{post.id}"
    assert saved["autosave_url"] == f"/admin/posts/{post.id}/autosave"
    assert saved["csrf_token"]
    # A UTC moment the page shows as "Draft saved at 14:02 UTC." (autosave.js), whatever the browser's zone.
    assert saved["saved_at"].endswith("+00:00")
    assert post.status is PostStatus.DRAFT and post.author.email == EDITOR_EMAIL
    again = _autosave(auth, saved["autosave_url"], body="<p>So far, and more</p>", title="")
    assert again.status_code == 200
    post = _post(app, "Untitled draft")
    assert post.body_html == "<p>So far, and more</p>" and post.revisions == []
    assert client.get(f"/posts/{post.slug}").status_code == 404


def test_autosave_token_from_the_answer_works_for_the_next_save(app, auth):
    auth.login()
    saved = _autosave(auth).get_json()
    response = auth.client.post(saved["autosave_url"], data={"title": "T", "body": "", "kind": "notice"},
                                headers={"Accept": "application/json", "X-CSRFToken": saved["csrf_token"]})
    assert response.status_code == 200


def test_autosave_never_touches_a_published_post(app, auth):
    with app.app_context():
        post_id = make_post("Live").id
    auth.login()
    response = _autosave(auth, f"/admin/posts/{post_id}/autosave", body="<p>half-typed</p>")
    assert response.status_code == 409
    assert _post(app, "Live").body_html == "<p>Body</p>"


def test_autosave_reports_problems_as_json(app, auth):
    auth.login()
    response = _autosave(auth, title="x" * 300)
    assert response.status_code == 400 and "Not saved" in response.get_json()["error"]
    assert _post(app, "x" * 300) is None


def test_autosave_after_the_session_ended_says_so_in_json(app, auth):
    auth.login()
    token = auth.token()
    with auth.client.session_transaction() as session:
        session.pop("_user_id")
    response = auth.client.post("/admin/posts/autosave", data={"title": "x"},
                                headers={"Accept": "application/json", "X-CSRFToken": token})
    assert response.status_code == 401 and "sign in again" in response.get_json()["error"]


def test_only_drafts_carry_the_autosave_address(app, auth):
    with app.app_context():
        live_id = make_post("Live").id
        draft_id = make_post("Draft", status=PostStatus.DRAFT).id
    auth.login()
    assert "data-autosave-url" in auth.client.get("/admin/posts/new").get_data(as_text=True)
    assert "data-autosave-url" in auth.client.get(f"/admin/posts/{draft_id}").get_data(as_text=True)
    assert "data-autosave-url" not in auth.client.get(f"/admin/posts/{live_id}").get_data(as_text=True)


def test_editor_degrades_to_a_textarea_of_html(auth):
    auth.login()
    page = auth.client.get("/admin/posts/new").get_data(as_text=True)
    assert '<textarea id="body" name="body"' in page and "Write HTML here" in page
    assert "vendor/trix/trix.umd.min.js" in page and "admin/editor.js" in page


def test_post_list_filters_by_status_tag_server_and_words(app, auth):
    with app.app_context():
        nc036 = make_server("NC036")
        make_post("Published mail outage", tags=("mail",), servers=(nc036,))
        make_post("Draft about dns", status=PostStatus.DRAFT, tags=("dns",))
        make_post("Scheduled upgrade", status=PostStatus.SCHEDULED, published_at=utcnow() + timedelta(days=1))
    auth.login(EDITOR_EMAIL)

    def titles(query):
        page = auth.client.get("/admin/posts" + query).get_data(as_text=True)
        return sorted(re.findall(r'<a href="/admin/posts/\d+">([^<]+)</a>', page))

    assert titles("") == ["Draft about dns", "Published mail outage", "Scheduled upgrade"]
    assert titles("?status=draft") == ["Draft about dns"]
    assert titles("?status=scheduled") == ["Scheduled upgrade"]
    assert titles("?status=published") == ["Published mail outage"]
    assert titles("?tag=mail") == ["Published mail outage"]
    assert titles("?server=NC036") == ["Published mail outage"]
    assert titles("?q=UPGRADE") == ["Scheduled upgrade"]
    assert titles("?q=100%25") == []


def test_post_list_search_drops_control_characters_as_the_public_search_does(app, auth):
    with app.app_context():
        make_post("Published mail outage")
        make_post("Scheduled upgrade", status=PostStatus.SCHEDULED, published_at=utcnow() + timedelta(days=1))
    auth.login(EDITOR_EMAIL)
    page = auth.client.get("/admin/posts", query_string={"q": "up\x00grade"}).get_data(as_text=True)
    assert re.findall(r'<a href="/admin/posts/\d+">([^<]+)</a>', page) == ["Scheduled upgrade"]
    assert 'name="q" value="upgrade"' in page and "\x00" not in page


def test_post_list_pages_keep_their_filters(app, auth):
    with app.app_context():
        for n in range(30):
            make_post(f"Draft {n}", status=PostStatus.DRAFT)
    auth.login()
    page = auth.client.get("/admin/posts?status=draft").get_data(as_text=True)
    assert "/admin/posts?page=2&amp;status=draft" in page or "/admin/posts?status=draft&amp;page=2" in page


def test_deleting_a_post_asks_first(app, auth, client):
    with app.app_context():
        post_id, slug = (p := make_post("Going away")).id, p.slug
    auth.login()
    assert "Delete this post?" in client.get(f"/admin/posts/{post_id}/delete").get_data(as_text=True)
    assert _post(app, "Going away") is not None
    assert auth.post(f"/admin/posts/{post_id}/delete").status_code == 302
    assert _post(app, "Going away") is None
    assert client.get(f"/posts/{slug}").status_code == 404


def test_an_unseen_drafts_address_follows_its_title_until_it_is_published(app, auth, client):
    auth.login()
    saved = _autosave(auth, title="Mail del").get_json()
    post_id = saved["edit_url"].rsplit("/", 1)[1]
    auth.post(f"/admin/posts/{post_id}", {"title": "Mail delayed", "body": "<p>x</p>", "kind": "incident",
                                          "action": "publish"})
    assert client.get("/posts/mail-delayed").status_code == 200
    auth.post(f"/admin/posts/{post_id}", {"title": "Mail delayed again", "body": "<p>x</p>", "kind": "incident",
                                          "action": "draft"})
    auth.post(f"/admin/posts/{post_id}", {"title": "Mail delayed, final", "body": "<p>x</p>", "kind": "incident",
                                          "action": "publish"})
    assert client.get("/posts/mail-delayed").status_code == 200
    assert _post(app, "Mail delayed, final").slug == "mail-delayed"
