"""Migration 0017 gives posts ``drafted_digest``: drafts from before have none, and the downgrade keeps every post."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, insert, inspect, select

from ninerstatus.extensions import db

from .conftest import BACKENDS, dispose, make_test_app, migrate_to
from .test_migration_check_secrets import required_values

#: A probe draft as release 0016 stores it.
OLD_DRAFT = {"title": "NC036: Mail server unreachable from MTN (Lusaka)", "slug": "nc036-mail-server",
             "body_html": "<p>Our monitoring shows <strong>NC036</strong> degraded.</p>", "origin": "probe",
             "status": "draft", "kind": "incident", "impact": "minor", "affected_state": "degraded"}


@pytest.fixture(params=BACKENDS)
def old_app(request, fresh_database_url, tmp_path):
    """An app on a new database of each backend, migrated to the revision before 0017, with one probe draft."""
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    migrate_to(app, "0016")
    with app.app_context(), db.engine.begin() as conn:
        old = MetaData()
        old.reflect(conn, only=["posts"])
        posts = old.tables["posts"]
        conn.execute(insert(posts), {**required_values(posts, 0, {}), **OLD_DRAFT})
    yield app
    dispose(app)


def stored_posts(app) -> list[dict]:
    with app.app_context(), db.engine.connect() as conn:
        posts = MetaData()
        posts.reflect(conn, only=["posts"])
        return [dict(row._mapping) for row in conn.execute(select(posts.tables["posts"]))]


def test_a_draft_from_before_has_no_digest_and_keeps_everything_else(old_app):
    migrate_to(old_app)
    [post] = stored_posts(old_app)
    assert post["drafted_digest"] is None
    assert {key: post[key] for key in OLD_DRAFT} == OLD_DRAFT


def test_the_downgrade_drops_the_digest_and_keeps_the_post(old_app):
    migrate_to(old_app)
    with old_app.app_context():
        db.session.execute(db.text("UPDATE posts SET drafted_digest = :digest"), {"digest": "a" * 64})
        db.session.commit()
        downgrade(revision="0016")
        assert "drafted_digest" not in {column["name"] for column in inspect(db.engine).get_columns("posts")}
    [post] = stored_posts(old_app)
    assert {key: post[key] for key in OLD_DRAFT} == OLD_DRAFT
