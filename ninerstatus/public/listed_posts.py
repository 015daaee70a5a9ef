"""The posts of a public list as plain rows: only the columns a listed post shows, and its servers, tags and updates.

A list of posts (the home page, a tag, a server, a month, a search) shows
each post in full: its title, time, kind, text, timeline, servers and tags.
Loading them as ORM objects costs an identity map entry, change tracking
and a relationship collection per post for what is only drawn; reading
them here costs the same statements (the posts, then their servers, tags
and updates, each for the whole page at once) on plain frozen rows that
answer what the templates ask of a ``Post`` (``post.kind.value``,
``post.updates``, ``server.code``...). The statements are built once per
process and sent with the page's post ids.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, select

from ..plain_rows import plain_rows
from ..models import Post, PostKind, PostUpdate, Server, Tag, UpdateState, post_servers, post_tags


@dataclass(frozen=True)
class ServerCode:
    """A server a listed post names: its code."""

    code: str


@dataclass(frozen=True)
class TagLink:
    """A tag a listed post carries: its name and address."""

    name: str
    slug: str


@dataclass(frozen=True)
class ListedUpdate:
    """One update of a listed post's timeline."""

    state: UpdateState
    body_html: str
    created_at: datetime


@dataclass(frozen=True)
class ListedPost:
    """A post of a public list, with its servers, tags and updates (newest first, as ``Post.updates``)."""

    id: int
    title: str
    slug: str
    body_html: str
    excerpt: str
    kind: PostKind
    published_at: datetime
    servers: tuple[ServerCode, ...] = ()
    tags: tuple[TagLink, ...] = ()
    updates: tuple[ListedUpdate, ...] = ()


#: The columns a listed post shows, in ``ListedPost``'s order.
POST_COLUMNS = (Post.id, Post.title, Post.slug, Post.body_html, Post.excerpt, Post.kind, Post.published_at)


def visible_post_rows(now) -> Select:
    """The visible posts' listed columns at ``now`` (a value or a bound parameter), newest first."""
    return (select(*POST_COLUMNS).where(Post.visible_clause(now))
            .order_by(Post.published_at.desc(), Post.id.desc()))


@cache
def _related_statements() -> tuple[Select, Select, Select]:
    """The servers, tags and updates of the posts ``ids``, each in the order a post lists them."""
    ids = bindparam("ids", expanding=True)
    servers = (select(post_servers.c.post_id, Server.code).join(Server, Server.id == post_servers.c.server_id)
               .where(post_servers.c.post_id.in_(ids)).order_by(Server.display_order, Server.code))
    tags = (select(post_tags.c.post_id, Tag.name, Tag.slug).join(Tag, Tag.id == post_tags.c.tag_id)
            .where(post_tags.c.post_id.in_(ids)).order_by(Tag.name))
    updates = (select(PostUpdate.post_id, PostUpdate.state, PostUpdate.body_html, PostUpdate.created_at)
               .where(PostUpdate.post_id.in_(ids)).order_by(PostUpdate.created_at.desc(), PostUpdate.id.desc()))
    return servers, tags, updates


def listed_posts(rows: Sequence) -> list[ListedPost]:
    """``rows`` of ``POST_COLUMNS`` as listed posts with their servers, tags and updates: three statements in all."""
    if not rows:
        return []
    values = {"ids": [row.id for row in rows]}
    servers, tags, updates = (_by_post(plain_rows(statement, values), shape)
                              for statement, shape in zip(_related_statements(),
                                                          (ServerCode, TagLink, ListedUpdate)))
    return [ListedPost(*row, servers=servers.get(row.id, ()), tags=tags.get(row.id, ()),
                       updates=updates.get(row.id, ())) for row in rows]


def _by_post(rows: Iterable, shape: type) -> dict[int, tuple]:
    """Rows whose first column is a post id, as ``shape`` of the rest, grouped by post in their order."""
    grouped: dict[int, list] = {}
    for post_id, *rest in rows:
        grouped.setdefault(post_id, []).append(shape(*rest))
    return {post_id: tuple(items) for post_id, items in grouped.items()}
