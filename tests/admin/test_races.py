"""Staff saving at the same moment: every save lands, nobody gets an error page or loses what they typed.

Eight staff members, each signed in over real HTTP to the site served in
threads, press their buttons together (released by one barrier), on SQLite and
on PostgreSQL.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, Role, Server, Tag

from ..factories import make_post, make_tag
from .accounts import add_user
from .livesite import all_at_once, served

STAFF = 8


@pytest.fixture
def app_config(app_config):
    """Saves wait their turn for SQLite's write lock as long as a loaded machine needs: this is about races."""
    return {**app_config, "SQLITE_BUSY_TIMEOUT_MS": 120_000}


@pytest.fixture
def signed_in(app):
    """A maker of ``STAFF`` clients of the served site, each signed in as an editor or admin of its own."""
    with app.app_context():
        emails = [f"staff{n}@example.net" for n in range(STAFF)]
        for email in emails:
            add_user(email, Role.ADMIN, email.split("@")[0])
    with served(app) as new_client:
        def sign_in_all():
            clients = [new_client() for _ in emails]
            for client, email in zip(clients, emails):
                client.sign_in(email)
            return clients
        yield sign_in_all


def _stored_posts(app) -> list[Post]:
    with app.app_context():
        posts = list(db.session.scalars(select(Post).order_by(Post.id)))
        for post in posts:
            post.tags  # noqa: B018  (loaded while the session is open)
        return posts


def _post_form(n: int, **fields) -> dict:
    return {"title": "Mail delayed on NC036", "body": f"<p>Written by staff member {n}.</p>", "kind": "incident",
            "tags": "", "action": "publish", **fields}


def test_posts_given_one_title_at_once_are_all_saved_at_addresses_of_their_own(app, signed_in):
    clients = signed_in()
    tokens = [client.token("/admin/posts/new") for client in clients]
    answers = all_at_once([lambda n=n: clients[n].post_form("/admin/posts/new", _post_form(n), tokens[n])
                           for n in range(STAFF)])
    assert [answer.status for answer in answers] == [302] * STAFF
    posts = _stored_posts(app)
    assert len(posts) == STAFF
    assert len({post.slug for post in posts}) == STAFF
    assert {post.slug for post in posts} >= {"mail-delayed-on-nc036", "mail-delayed-on-nc036-2"}
    assert sorted(post.body_html for post in posts) == sorted(_post_form(n)["body"] for n in range(STAFF))
    # Each answer leads to the post that client wrote.
    for n, answer in enumerate(answers):
        post = next(p for p in posts if answer.location == f"/admin/posts/{p.id}")
        assert post.body_html == _post_form(n)["body"]


def test_drafts_autosaved_with_one_title_at_once_are_all_kept(app, signed_in):
    clients = signed_in()
    tokens = [client.token("/admin/posts/new") for client in clients]
    answers = all_at_once([
        lambda n=n: clients[n].request("POST", "/admin/posts/autosave", {**_post_form(n), "csrf_token": tokens[n]},
                                       headers={"Accept": "application/json"})
        for n in range(STAFF)])
    assert [answer.status for answer in answers] == [200] * STAFF
    posts = _stored_posts(app)
    assert len({post.slug for post in posts}) == len(posts) == STAFF
    for n, answer in enumerate(answers):
        post = next(p for p in posts if json.loads(answer.text)["edit_url"] == f"/admin/posts/{p.id}")
        assert post.body_html == _post_form(n)["body"]


def test_one_new_tag_given_at_once_by_everyone_becomes_one_tag(app, signed_in):
    clients = signed_in()
    tokens = [client.token("/admin/posts/new") for client in clients]
    forms = [_post_form(n, title=f"Migration update {n}", tags=f"dns, Migration  NC036, n{n}") for n in range(STAFF)]
    answers = all_at_once([lambda n=n: clients[n].post_form("/admin/posts/new", forms[n], tokens[n])
                           for n in range(STAFF)])
    assert [answer.status for answer in answers] == [302] * STAFF
    with app.app_context():
        assert sorted(db.session.scalars(select(Tag.name))) == \
            sorted(["dns", "Migration NC036"] + [f"n{n}" for n in range(STAFF)])
    for post in _stored_posts(app):
        assert sorted(t.name for t in post.tags) == sorted(["dns", "Migration NC036", f"n{post.title[-1]}"])


def test_tags_differing_only_in_case_given_at_once_become_one_tag(app, signed_in):
    clients = signed_in()
    tokens = [client.token("/admin/posts/new") for client in clients]
    names = ["Backup", "backup", "BACKUP", "backUp"] * (STAFF // 4)
    answers = all_at_once([
        lambda n=n: clients[n].post_form("/admin/posts/new", _post_form(n, title=f"Backups {n}", tags=names[n]),
                                         tokens[n])
        for n in range(STAFF)])
    assert [answer.status for answer in answers] == [302] * STAFF
    with app.app_context():
        tags = db.session.scalars(select(Tag)).all()
        assert len(tags) == 1 and tags[0].slug == "backup"
    assert all(len(post.tags) == 1 for post in _stored_posts(app))


def test_one_server_code_added_at_once_is_added_once_and_the_others_are_told(app, signed_in):
    clients = signed_in()
    tokens = [client.token("/admin/servers/new") for client in clients]
    form = {"code": "NC050", "role": "Mail server", "city": "Oslo", "country": "Norway", "visibility": "public",
            "display_order": "30"}
    answers = all_at_once([lambda n=n: clients[n].post_form("/admin/servers/new", {**form, "notes": f"by {n}"},
                                                            tokens[n])
                           for n in range(STAFF)])
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [302] + [400] * (STAFF - 1)
    for answer in answers:
        if answer.status == 400:
            assert "Another server already has this code." in answer.text and "Oslo" in answer.text
    with app.app_context():
        assert db.session.scalars(select(Server.code)).all() == ["NC050"]


def test_tags_of_one_post_merged_into_one_tag_at_once_all_merge(app, signed_in):
    with app.app_context():
        post = make_post("Migration", tags=tuple(f"m{n}" for n in range(STAFF)))
        make_tag("migration")
        db.session.commit()
        ids = {tag.name: tag.id for tag in db.session.scalars(select(Tag))}
        post_id = post.id
    clients = signed_in()
    tokens = [client.token(f"/admin/tags/{ids[f'm{n}']}") for n, client in enumerate(clients)]
    answers = all_at_once([
        lambda n=n: clients[n].post_form(f"/admin/tags/{ids[f'm{n}']}/merge", {"target": ids["migration"]},
                                         tokens[n])
        for n in range(STAFF)])
    assert [answer.status for answer in answers] == [302] * STAFF
    with app.app_context():
        assert db.session.scalars(select(Tag.name)).all() == ["migration"]
        assert [tag.name for tag in db.session.get(Post, post_id).tags] == ["migration"]
