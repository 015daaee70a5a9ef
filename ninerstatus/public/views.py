"""Visitors' pages: home, post, tag, server, archive and search."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import cache
from urllib.parse import urlencode

from flask import abort, current_app, redirect, render_template, request, url_for
from sqlalchemy import bindparam, extract, func, or_, select

from ..checks.listing import ListedServer, listed_server, listed_servers
from ..extensions import db
from ..markup import strip_control_chars
from ..models import Post, Server, Tag, visible_now
from . import bp
from .listed_posts import listed_posts, visible_post_rows
from .pagination import Listing, Page, page_of


def search_words(args) -> str:
    """The words a search asked for (``q``), without control characters or surrounding spaces.

    Control characters cannot be typed and match nothing sensible (a NUL even
    ends the pattern early in SQLite), so they are dropped before anything else.
    """
    return strip_control_chars(args.get("q", "")).strip()


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching ``text`` anywhere, its own % and _ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def visible_post_or_404(slug: str) -> Post:
    """Return the visible post with ``slug``; drafts and future posts are simply not found."""
    post = db.session.scalar(select(Post).where(Post.slug == slug, Post.visible_clause()))
    if post is None:
        abort(404, description="There is no published post at this address.")
    return post


def visible_tag_or_404(slug: str) -> Tag:
    """Return the tag with ``slug`` if a visitor may see a post carrying it.

    A tag used only by drafts or scheduled posts is not found: its name alone
    could announce what staff are still writing.
    """
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug, Tag.posts.any(Post.visible_clause())))
    if tag is None:
        abort(404, description="No published post carries this tag.")
    return tag


def server_or_404(code: str) -> ListedServer:
    """Return the server with ``code``; a code in another case redirects (301) to its own spelling.

    Codes are unique whatever their case, so ``/servers/nc042`` can only mean
    NC042. Every server is listed in the sidebar, so the redirect reveals nothing.
    The server comes from the request's listing (``checks.listing``), which
    the sidebar and the status summary read too: no query of its own.
    """
    server_ = listed_server(code)
    if server_ is None:
        folded = code.lower()
        server_ = next((listed for listed in listed_servers() if listed.code.lower() == folded), None)
        if server_ is None:
            abort(404, description="No server is listed with this code.")
        # The arguments (a page number) go along, encoded here: url_for would read "_anchor" and such as its own.
        query = f"?{urlencode(list(request.args.items(multi=True)))}" if request.args else ""
        abort(redirect(url_for("public.server", code=server_.code) + query, 301))
    return server_


@cache
def listings() -> dict[str, Listing]:
    """The paged post lists of the public pages, built once per process and sent with ``now`` and their values.

    ``home``: every visible post; ``tag``: those carrying ``tag_id``; ``server``: those naming ``server_id``;
    ``month``: those published from ``start`` to before ``end``; ``search``: those whose title or text is
    ``LIKE`` the ``pattern``. Each selects the columns a listed post shows (``listed_posts``).
    """
    visible = visible_post_rows(bindparam("now"))
    pattern = bindparam("pattern")
    return {name: Listing.of(statement) for name, statement in {
        "home": visible,
        "tag": visible.where(Post.tags.any(Tag.id == bindparam("tag_id"))),
        "server": visible.where(Post.servers.any(Server.id == bindparam("server_id"))),
        "month": visible.where(Post.published_at >= bindparam("start"), Post.published_at < bindparam("end")),
        "search": visible.where(or_(Post.title.ilike(pattern, escape="\\"),
                                    Post.body_text.ilike(pattern, escape="\\"))),
    }.items()}


def posts_page(name: str, **values) -> Page:
    """The requested page of the public post list ``name`` (see ``listings``), its posts as plain rows."""
    return page_of(listings()[name], current_app.config["POSTS_PER_PAGE"], {"now": visible_now(), **values},
                   listed_posts)


@bp.after_request
def cache_public_pages(response):
    """Let browsers and proxies revalidate public pages cheaply with an ETag."""
    if request.method == "GET" and response.status_code == 200 and not response.direct_passthrough:
        response.cache_control.public = True
        response.cache_control.max_age = 30
        response.add_etag()
        response.make_conditional(request)
    return response


@bp.get("/")
def home():
    """Server and System Status: the newest published posts."""
    return render_template("public/home.html", page=posts_page("home"))


@bp.get("/posts/<slug>")
def post(slug: str):
    """One post at its permanent address."""
    return render_template("public/post.html", post=visible_post_or_404(slug))


@bp.get("/tags/")
def tags():
    """Every tag with its number of published posts."""
    return render_template("public/tags.html")


@bp.get("/tags/<slug>")
def tag(slug: str):
    """Published posts carrying one tag."""
    tag_ = visible_tag_or_404(slug)
    return render_template("public/tag.html", tag=tag_, page=posts_page("tag", tag_id=tag_.id))


@bp.get("/servers/<code>")
def server(code: str):
    """A server's details and every published post that affected it."""
    server_ = server_or_404(code)
    return render_template("public/server.html", server=server_, page=posts_page("server", server_id=server_.id))


@bp.get("/favicon.ico")
def favicon():
    """Browsers and crawlers ask for /favicon.ico whatever the page links: send them to the site's icon."""
    return redirect(url_for("static", filename="img/favicon.svg"), 301)


@bp.get("/archive/")
def archive():
    """Months that have published posts, newest first, with their counts."""
    year, month = extract("year", Post.published_at), extract("month", Post.published_at)
    rows = db.session.execute(
        select(year.label("year"), month.label("month"), func.count(Post.id).label("n"))
        .where(Post.visible_clause())
        .group_by(year, month)
        .order_by(year.desc(), month.desc())
    ).all()
    months = [(datetime(int(r.year), int(r.month), 1, tzinfo=timezone.utc), r.n) for r in rows]
    return render_template("public/archive.html", months=months)


@bp.get("/archive/<int:year>/<int:month>")
def archive_month(year: int, month: int):
    """Published posts of one calendar month (UTC)."""
    if not (1 <= month <= 12 and 1970 <= year <= 9999):
        abort(404, description="There is no such month in the archive.")
    start = datetime(year, month, 1, tzinfo=timezone.utc)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=timezone.utc)
    return render_template("public/archive_month.html", month=start, page=posts_page("month", start=start, end=end))


@bp.get("/search")
def search():
    """Published posts whose title or text contains the query."""
    query = search_words(request.args)
    limit = current_app.config["SEARCH_MAX_LENGTH"]
    if len(query) > limit:
        abort(400, description=f"Search for at most {limit} characters.")
    page = None
    if query:
        page = posts_page("search", pattern=like_pattern(query))
    return render_template("public/search.html", query=query, page=page)
