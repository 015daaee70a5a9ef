"""A database too busy to save: the form comes back with everything typed, a message and 503, never a 500.

Another connection holds the write lock the save needs: on SQLite a
``BEGIN IMMEDIATE`` transaction, against a busy timeout of a few
milliseconds; on PostgreSQL an EXCLUSIVE lock on the table (reads still pass),
against a lock timeout of a few milliseconds.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Post, PostUpdate, Server, Tag, User

from ..factories import make_post, make_server
from .accounts import EDITOR_EMAIL

BUSY = "The database was busy; nothing was saved. Your text is below: save again."
NOTHING_DONE = "The database was busy, so nothing was done."


@pytest.fixture
def app_config(app_config, backend):
    """Give up waiting for a lock after a few milliseconds, so a held lock shows at once."""
    if backend == "sqlite":
        return {**app_config, "SQLITE_BUSY_TIMEOUT_MS": 20}
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"options": "-c lock_timeout=20"}}}


@contextmanager
def write_lock_held(app, table: str) -> Iterator[None]:
    """Hold, from a connection of another process's kind, the lock a save to ``table`` needs."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.exec_driver_sql(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
            try:
                yield
            finally:
                connection.rollback()
    finally:
        engine.dispose()


@pytest.fixture
def content(app, staff):
    """A server, a published post and a tag to edit; their ids by name."""
    with app.app_context():
        server = make_server("NC036")
        post = make_post("Mail delayed", tags=("mail",), servers=(server,))
        return {"server": server.id, "post": post.id, "tag": post.tags[0].id}


POST = {"title": "Queue stuck on NC036", "body": "<p>Queue drained at 14:05 by hand.</p>", "kind": "incident",
        "tags": "mail, Queue incidents", "action": "publish"}
CHECK = {"label": "Greeting on 2525", "host": "127.0.0.1", "port": "2525", "tls_mode": "", "family": "any",
         "tls_name": "", "tls_verify": "y", "ca_file": "", "warn_days": 21, "crit_days": 7, "interval_seconds": 60,
         "timeout_seconds": 2, "failures_before_down": 2, "successes_before_up": 1, "visibility": "public",
         "enabled": "y", "settings-expect": "banner ready"}

# Each staff form: its address, what is typed, the table its save writes, and typed text to find again.
FORMS = {
    "new post": ("/admin/posts/new", POST, "posts", ["Queue stuck on NC036", "Queue drained at 14:05 by hand.",
                                                      "mail, Queue incidents"]),
    "edited post": ("/admin/posts/{post}", {**POST, "title": "Mail delayed: cause found"}, "posts",
                    ["Mail delayed: cause found", "Queue drained at 14:05 by hand."]),
    "incident update": ("/admin/posts/{post}/updates", {"state": "monitoring", "body": "<p>Watching the queue.</p>"},
                        "post_updates", ["Watching the queue."]),
    "tag": ("/admin/tags/{tag}", {"name": "Mail delivery", "slug": "mail-delivery"}, "tags",
            ['value="Mail delivery"', 'value="mail-delivery"']),
    "server": ("/admin/servers/new", {"code": "NC050", "role": "Spam filter", "city": "Oslo", "country": "Norway",
                                      "visibility": "public", "display_order": "30", "notes": "Replaces NC041."},
               "servers", ['value="NC050"', 'value="Spam filter"', "Replaces NC041."]),
    "check": ("/admin/checks/new/banner", {**CHECK, "server_id": "{server}"}, "checks",
              ['value="Greeting on 2525"', 'value="banner ready"']),
    "account": ("/admin/users/new", {"email": "new@example.net", "name": "New Person", "role": "editor",
                                     "active": "y", "password": "another long passphrase"}, "users",
                ['value="new@example.net"', 'value="New Person"']),
}


def _saved(app) -> dict:
    """What the forms above would change, as stored now."""
    with app.app_context():
        db.session.expire_all()
        count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
        return {"posts": db.session.scalars(select(Post.title).order_by(Post.id)).all(),
                "updates": count(PostUpdate), "tags": db.session.scalars(select(Tag.name)).all(),
                "servers": count(Server), "checks": count(Check), "users": count(User)}


@pytest.mark.parametrize("form", FORMS)
def test_a_busy_database_shows_the_form_again_with_everything_typed(app, auth, content, form):
    path, data, table, typed = FORMS[form]
    path = path.format(**content)
    data = {name: str(value).format(**content) for name, value in data.items()}
    auth.login()
    before = _saved(app)
    with write_lock_held(app, table):
        answer = auth.post(path, data)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert BUSY in page
    for text in typed:
        assert text in page
    assert _saved(app) == before
    # The lock gone, the same form saves.
    assert auth.post(path, data).status_code == 302
    assert _saved(app) != before


def test_a_busy_database_keeps_an_autosave_for_the_next_change(app, auth, content):
    auth.login(EDITOR_EMAIL)
    with write_lock_held(app, "posts"):
        answer = auth.post("/admin/posts/autosave", POST, headers={"Accept": "application/json"})
    assert answer.status_code == 503
    assert answer.get_json() == {"error": "Not saved: the database was busy. Your next change saves it again, "
                                          "or press a button to save."}
    assert _saved(app)["posts"] == ["Mail delayed"]


def test_a_busy_database_answers_a_button_without_a_form_with_503(app, auth, content):
    auth.login()
    with write_lock_held(app, "servers"):
        answer = auth.post(f"/admin/servers/{content['server']}/visibility")
    assert answer.status_code == 503 and NOTHING_DONE in answer.get_data(as_text=True)
