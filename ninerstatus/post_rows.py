"""Posts read as plain rows with the servers they name and their newest update, in one statement.

The status summary reads the open incidents and the maintenance windows not
over yet on every public page, and staff's dashboard the open incidents.
Read as ORM posts, each list cost three statements (the posts, their
servers, their updates) and the ORM's handling of every row; read here, it
is one statement of a row per post and server, whose update columns are
worked out for the rows returned only.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, select

from .models import Post, PostUpdate, Server, UpdateState, post_servers

#: Each post's servers in the order ``Post.servers`` lists them; append it to a statement's own order.
SERVER_ORDER = (Server.display_order, Server.code)


class PostRow(NamedTuple):
    """One post of a ``with_servers_and_newest_update`` statement: its columns, newest update and servers."""

    columns: tuple[Any, ...]
    # The newest update's state, text and time; None for a post without updates.
    state: UpdateState | None
    latest_html: str | None
    latest_at: datetime | None
    # The servers it names (id and code).
    servers: tuple[tuple[int, str], ...]

    @property
    def has_update(self) -> bool:
        """True when the post has an update (every update has a state)."""
        return self.state is not None

    @property
    def server_codes(self) -> tuple[str, ...]:
        """The codes of the servers it names."""
        return tuple(code for _id, code in self.servers)


def newest_update(column):
    """SQL: ``column`` of a post's newest update, in the order ``Post.updates`` uses."""
    return (select(column).where(PostUpdate.post_id == Post.id)
            .order_by(PostUpdate.created_at.desc(), PostUpdate.id.desc()).limit(1)
            .correlate(Post).scalar_subquery())


def with_servers_and_newest_update(*columns) -> Select:
    """A statement of ``columns`` of posts, their newest update and a row per server each names (or one without).

    Add the posts' condition, and an order ending in ``SERVER_ORDER``; read
    its rows with ``post_rows``.
    """
    return (select(*columns, newest_update(PostUpdate.state), newest_update(PostUpdate.body_html),
                   newest_update(PostUpdate.created_at), Server.id, Server.code)
            .outerjoin(post_servers, post_servers.c.post_id == Post.id)
            .outerjoin(Server, Server.id == post_servers.c.server_id))


def post_rows(rows: Iterable[tuple]) -> list[PostRow]:
    """The rows of a ``with_servers_and_newest_update`` statement whose first column is the post's id, one per post."""
    posts: dict[Any, tuple[tuple, list[tuple[int, str]]]] = {}
    for *columns, state, latest_html, latest_at, server_id, code in rows:
        kept = posts.get(columns[0])
        if kept is None:
            kept = posts[columns[0]] = ((tuple(columns), state, latest_html, latest_at), [])
        if server_id is not None:
            kept[1].append((server_id, code))
    return [PostRow(*fields, tuple(servers)) for fields, servers in posts.values()]
