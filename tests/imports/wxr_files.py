"""The WXR fixtures of these tests, and helpers that import them into a test site."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from ninerstatus.extensions import db
from ninerstatus.imports.summary import ImportSummary
from ninerstatus.imports.wordpress import ImportOptions, import_wordpress
from ninerstatus.models import Post, Tag, User

FIXTURES = Path(__file__).parent / "fixtures"
STATUS_BLOG = FIXTURES / "status-blog.xml"
WXR_11 = FIXTURES / "wxr-1.1.xml"
#: The posts of status-blog.xml that become posts (not the trash, the page, the attachment...).
STATUS_BLOG_POSTS = 9


def run_import(app, source=STATUS_BLOG, **options) -> ImportSummary:
    """Import ``source`` into ``app``'s site with ``options`` (see ImportOptions)."""
    with app.app_context():
        return import_wordpress(source, ImportOptions(**options))


def post_titled(title: str) -> Post:
    """The post with ``title`` (in an app context)."""
    return db.session.scalars(select(Post).where(Post.title == title)).one()


def counts() -> tuple[int, int, int]:
    """How many posts, tags and accounts the site has (in an app context)."""
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in (Post, Tag, User))
