"""Every page and document a visitor or a script can reach on the public site, listed from the database.

The mirror does not crawl its own pages to find what to write: it asks the
database, with the same visibility rule as the pages (``Post.visible_clause``),
so a draft or a scheduled post is never even asked for, and a page that no
link happens to reach is still written. Lists come with all their pages,
counted with the site's ``POSTS_PER_PAGE``.

Call ``site_documents`` inside a request context of the site at its root
(``mirror/rendering.py`` makes one): addresses come from ``url_for``.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app, url_for
from sqlalchemy import extract, func, select

from ..extensions import db
from ..models import Post, Server, Tag, post_servers, post_tags
from .layout import file_for, mirror_page_url

FEED_FORMATS = ("atom", "rss")
#: The Statuspage-compatible documents, each at its own ``.json`` address.
API_V2_ENDPOINTS = ("api.summary", "api.status", "api.components", "api.incidents", "api.unresolved_incidents",
                    "api.scheduled_maintenances", "api.active_maintenances", "api.upcoming_maintenances")


@dataclass(frozen=True)
class Document:
    """One address of the site the mirror writes: where the live site answers it and where its file goes.

    ``kind`` is "html", "json" or "file" (see ``layout.file_for``); ``page``
    is the page number of a list (1 for anything else).
    """

    path: str
    kind: str
    page: int = 1

    @property
    def request_target(self) -> str:
        """What to ask the site for: the address, with ``?page=`` for a list's later pages."""
        return self.path if self.page == 1 else f"{self.path}?page={self.page}"

    @property
    def mirror_path(self) -> str:
        """The mirror's own address of this document (a list's later pages have one of their own)."""
        return mirror_page_url(self.path, self.page)

    @property
    def file(self):
        """The file, relative to the mirror's root, this document is written to."""
        return file_for(self.mirror_path, self.kind)


def _pages(count: int) -> int:
    return max(1, math.ceil(count / current_app.config["POSTS_PER_PAGE"]))


def _list(path: str, count: int) -> Iterator[Document]:
    for number in range(1, _pages(count) + 1):
        yield Document(path, "html", number)


def _feeds(endpoint: str, **values: str) -> Iterator[Document]:
    for fmt in FEED_FORMATS:
        yield Document(url_for(endpoint, fmt=fmt, **values), "file")


def _visible_count() -> int:
    return db.session.scalar(select(func.count(Post.id)).where(Post.visible_clause())) or 0


def tag_counts() -> list[tuple[str, int]]:
    """Each tag that a visible post carries, by slug, with the number of such posts."""
    rows = db.session.execute(select(Tag.slug, func.count(Post.id))
                              .join(post_tags, post_tags.c.tag_id == Tag.id)
                              .join(Post, Post.id == post_tags.c.post_id)
                              .where(Post.visible_clause()).group_by(Tag.id, Tag.slug).order_by(Tag.slug)).all()
    return [(slug, count) for slug, count in rows]


def server_counts() -> list[tuple[str, int]]:
    """Every server's code with the number of visible posts that affected it (servers without any too)."""
    visible = (select(post_servers.c.server_id, func.count(Post.id).label("n"))
               .join(Post, Post.id == post_servers.c.post_id).where(Post.visible_clause())
               .group_by(post_servers.c.server_id).subquery())
    rows = db.session.execute(select(Server.code, func.coalesce(visible.c.n, 0))
                              .outerjoin(visible, visible.c.server_id == Server.id).order_by(Server.code)).all()
    return [(code, count) for code, count in rows]


def month_counts() -> list[tuple[datetime, int]]:
    """The first moment (UTC) of each month that has visible posts, with their number."""
    year, month = extract("year", Post.published_at), extract("month", Post.published_at)
    rows = db.session.execute(select(year, month, func.count(Post.id)).where(Post.visible_clause())
                              .group_by(year, month).order_by(year, month)).all()
    return [(datetime(int(y), int(m), 1, tzinfo=timezone.utc), count) for y, m, count in rows]


def site_documents() -> Iterator[Document]:
    """Every public page (each page of each list), feed and API document, in no particular order of need."""
    yield from _list(url_for("public.home"), _visible_count())
    yield from _feeds("public.site_feed")
    for slug in db.session.scalars(select(Post.slug).where(Post.visible_clause()).order_by(Post.id)):
        yield Document(url_for("public.post", slug=slug), "html")
    yield Document(url_for("public.tags"), "html")
    for slug, count in tag_counts():
        yield from _list(url_for("public.tag", slug=slug), count)
        yield from _feeds("public.tag_feed", slug=slug)
    yield Document(url_for("api.servers"), "json")
    for code, count in server_counts():
        yield from _list(url_for("public.server", code=code), count)
        yield from _feeds("public.server_feed", code=code)
        yield Document(url_for("api.server", code=code), "json")
    yield Document(url_for("public.archive"), "html")
    for month, count in month_counts():
        yield from _list(url_for("public.archive_month", year=month.year, month=month.month), count)
    for endpoint in API_V2_ENDPOINTS:
        yield Document(url_for(endpoint), "file")
