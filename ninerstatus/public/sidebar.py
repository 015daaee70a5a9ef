"""What the sidebar shows on every page: servers, recent posts and the tag cloud; and its drawn HTML, kept.

Drawing the sidebar (every server, a widget per check, 90-day strips, the
tag cloud) costs most of an uncached page. It is the same for every page
and every reader: it is drawn from its own template with nothing of the
page but its lazy ``sidebar`` and ``history`` objects, shows only what
visitors may see whoever is signed in, and its links are relative. So each
worker keeps the HTML for ``SIDEBAR_CACHE_SECONDS`` (default 5, far under a
probe interval), one per application root (the only part of the request its
links depend on), and a page that misses the page cache pays only for its
own content. Staff changes in this worker empty it at once (``ClearOnChange``
in pagecache.py); other workers follow within the period.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property

from flask import Flask, current_app, render_template, request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy import Select, bindparam, func, not_, select

from ..checks.listing import ListedCheck, ListedServer, listed_servers
from ..checks.status import check_state, latency_ms, server_state, short_time, time_ago
from ..checks.widget_face import drawn_widget
from ..checktypes import DEFAULT_WIDGET
from ..models import Post, Tag, post_tags, visible_now
from ..plain_rows import plain_rows
from ..plugins import get_plugins

CLOUD_WEIGHTS = 5
EXTENSION_KEY = "ninerstatus.sidebar_cache"
#: Sidebars kept at most: one per application root, of which a site normally has one.
MAX_ENTRIES = 8


@dataclass(frozen=True)
class RecentPost:
    """A post in the sidebar's "Recent Posts": its title and address."""

    title: str
    slug: str


@dataclass(frozen=True)
class CloudTag:
    """A tag in the cloud with its visible post count and a weight from 1 to 5."""

    name: str
    slug: str
    count: int
    weight: int


def widget_template(check: ListedCheck) -> str:
    """The sidebar widget template of ``check``'s type (the core's own when the plugin is gone)."""
    check_type = get_plugins().check_types.get(check.type_name)
    return check_type.widget_template if check_type else DEFAULT_WIDGET


@cache
def _cloud_query() -> Select:
    """The tag cloud's query, built once per process (see ``checks.listing``); sent with the time and the limit.

    A tag's visible posts are its posts less its hidden ones (drafts, posts
    scheduled for later): counting every tag's posts walks the tag index in
    order with nothing to sort, and the hidden posts are few and found in
    the posts' index alone. Counting the visible posts directly joined and
    grouped every tagged post on every page, five times the work on a site
    with a thousand posts.
    """
    every = (select(post_tags.c.tag_id, func.count().label("n"))
             .group_by(post_tags.c.tag_id).subquery("every"))
    hidden_posts = select(Post.id).where(not_(Post.visible_clause(bindparam("now"))))
    hidden = (select(post_tags.c.tag_id, func.count().label("n"))
              .where(post_tags.c.post_id.in_(hidden_posts))
              .group_by(post_tags.c.tag_id).subquery("hidden"))
    count = (every.c.n - func.coalesce(hidden.c.n, 0)).label("n")
    return (select(Tag.name, Tag.slug, count)
            .join(every, every.c.tag_id == Tag.id)
            .outerjoin(hidden, hidden.c.tag_id == Tag.id)
            .where(count > 0)
            .order_by(count.desc(), Tag.name)
            .limit(bindparam("limit")))


@cache
def _recent_query() -> Select:
    """The newest visible posts' titles and addresses: only the two columns the list shows."""
    return (select(Post.title, Post.slug).where(Post.visible_clause(bindparam("now")))
            .order_by(Post.published_at.desc(), Post.id.desc()).limit(bindparam("limit")))


def tag_cloud(limit: int) -> list[CloudTag]:
    """Return the most used tags (visible posts only), alphabetically, weighted on a log scale."""
    rows = plain_rows(_cloud_query(), {"now": visible_now(), "limit": limit}).all()
    if not rows:
        return []
    low, high = math.log(min(r.n for r in rows)), math.log(max(r.n for r in rows))
    span = (high - low) or 1.0
    cloud = [CloudTag(r.name, r.slug, r.n, 1 + round((math.log(r.n) - low) / span * (CLOUD_WEIGHTS - 1)))
             for r in rows]
    return sorted(cloud, key=lambda t: t.name.casefold())


class Sidebar:
    """Sidebar data, queried only when a template actually asks for it."""

    @property
    def servers(self) -> tuple[ListedServer, ...]:
        return listed_servers()

    @cached_property
    def recent_posts(self) -> list[RecentPost]:
        rows = plain_rows(_recent_query(), {"now": visible_now(), "limit": current_app.config["RECENT_POSTS"]})
        return [RecentPost(*row) for row in rows]

    @cached_property
    def tags(self) -> list[CloudTag]:
        return tag_cloud(current_app.config["TAG_CLOUD_SIZE"])


class SidebarCache:
    """Drawn sidebars kept for ``seconds`` by key; ``clear`` forgets them, and any being drawn meanwhile.

    Thread-safe. When an entry runs out, requests arriving together may each
    draw it again; the last one drawn is kept.

    :param clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._entries: dict[str, tuple[float, Markup]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def html(self, key: str, draw: Callable[[], Markup]) -> Markup:
        """The sidebar kept under ``key``, or ``draw()``'s, kept unless content changed while it was drawn."""
        kept = self._entries.get(key)
        if kept is not None and self.clock() < kept[0]:
            return kept[1]
        generation = self._generation
        drawn = draw()
        with self._lock:
            if generation == self._generation:
                if len(self._entries) >= MAX_ENTRIES and key not in self._entries:
                    self._entries = {}
                self._entries[key] = (self.clock() + self.seconds, drawn)
        return drawn

    def clear(self) -> None:
        """Forget every sidebar; those being drawn now are not kept either."""
        with self._lock:
            self._entries = {}
            self._generation += 1


def init_sidebar_cache(app: Flask) -> SidebarCache | None:
    """Keep drawn sidebars for ``SIDEBAR_CACHE_SECONDS`` (none when 0); the caller empties it on changes."""
    seconds = float(app.config["SIDEBAR_CACHE_SECONDS"])
    if seconds <= 0:
        return None
    cache = SidebarCache(seconds)
    app.extensions[EXTENSION_KEY] = cache
    return cache


@pass_context
def sidebar_html(context: Context) -> Markup:
    """The sidebar for the page being drawn: kept from an earlier page, or drawn now."""
    def draw() -> Markup:
        # Only the page's lazy data objects, so whatever the page itself asked of them is not asked again.
        return Markup(render_template("sidebar.html", sidebar=context["sidebar"], history=context["history"]))

    cache = current_app.extensions.get(EXTENSION_KEY)
    return draw() if cache is None else cache.html(request.script_root, draw)


def sidebar_context() -> dict:
    """Context processor: a lazy ``sidebar``, its kept HTML and the server and check helpers for every template."""
    return {"sidebar": Sidebar(), "sidebar_html": sidebar_html, "server_state": server_state,
            "widget_template": widget_template, "default_widget": DEFAULT_WIDGET, "time_ago": time_ago, "latency_ms": latency_ms,
            "check_state": check_state, "short_time": short_time, "drawn_widget": drawn_widget}
