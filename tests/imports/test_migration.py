"""Migration 0012 adds the import's memory to a site that has posts, and takes it away again."""
from __future__ import annotations

from datetime import datetime

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, func, inspect, insert, select

from ninerstatus.extensions import db
from ninerstatus.models import Post

from ..conftest import BACKENDS, dispose, make_test_app, migrate_to
from .wxr_files import STATUS_BLOG_POSTS, run_import

BEFORE = "0012-1"
TABLES = {"wordpress_items", "wordpress_terms"}
WRITTEN = datetime(2026, 1, 5, 12, 0)  # stored naive UTC, as the schema keeps timestamps


@pytest.fixture(params=BACKENDS)
def old_app(request, fresh_database_url, tmp_path):
    """An app on a new database of each backend at the revision before the import's, with a post and a tag."""
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    migrate_to(app, BEFORE)
    with app.app_context(), db.engine.begin() as conn:
        old = MetaData()
        old.reflect(conn, only=["posts", "tags"])
        posts, tags = old.tables["posts"], old.tables["tags"]
        conn.execute(insert(tags), {"name": "email", "slug": "email"})
        conn.execute(insert(posts), {"title": "Written here", "slug": "written-here", "body_html": "<p>x</p>",
                                     "body_text": "x", "excerpt": "x", "kind": "notice", "status": "published",
                                     "created_at": WRITTEN, "updated_at": WRITTEN, "origin": "staff"})
    yield app
    dispose(app)


def test_upgrade_keeps_posts_and_tags_and_an_import_then_uses_them(old_app):
    migrate_to(old_app)
    with old_app.app_context():
        assert TABLES <= set(inspect(db.engine).get_table_names())
    summary = run_import(old_app)
    assert summary.imported == STATUS_BLOG_POSTS
    assert summary.tags_created == 3  # Migration & moves, Servers, Été: "email" was there already
    with old_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == STATUS_BLOG_POSTS + 1
    with old_app.test_client() as client:
        assert client.get("/?p=101").headers["Location"] == "/posts/nc036-migration-update-25-final"


def test_downgrade_drops_only_the_import_memory(old_app):
    migrate_to(old_app)
    run_import(old_app)
    with old_app.app_context():
        downgrade(revision=BEFORE)
        assert not TABLES & set(inspect(db.engine).get_table_names())
        titles = set(db.session.scalars(select(Post.title)))
    assert "Written here" in titles and "NC020: Reboot" in titles
