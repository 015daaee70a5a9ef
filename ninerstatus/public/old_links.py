"""Old WordPress addresses, answered with a permanent redirect (301) to the imported post, tag or feed.

Customers and search engines know the addresses of a status blog moved in
with ``ninerstatus import wordpress``; these keep working:

- ``/2018/06/20/slug/`` and ``/2018/06/slug/`` (dated permalinks),
- ``/slug/`` (the "post name" permalinks), answered only when no page of the
  site has that address (from the 404 handler, so it costs normal pages nothing),
- ``/?p=123`` (WordPress's plain links), looked up only when ``p`` is asked for,
- ``/tag/x/``, ``/category/parent/x/`` and their ``feed/``, and ``/feed/``.

Each lookup goes through what the import remembered (imports/models.py) and
answers only with a post or tag a visitor may see: an address that led to a
post that is now a draft, scheduled or deleted is a 404 like any unknown one,
so a redirect never tells that a post exists.
"""
from __future__ import annotations

import re

from flask import abort, redirect, request, url_for
from sqlalchemy import case, or_, select

from ..extensions import db
from ..imports.models import ImportedItem, ImportedTerm
from ..models import Post, Tag
from . import bp

_NOT_HERE = "There is no published post at this address."
# One path segment, as a "post name" permalink is; a trailing slash or not.
_SINGLE_SEGMENT = re.compile(r"\A/([^/]+)/?\Z")
_WP_POST_ID = re.compile(r"\A[0-9]{1,18}\Z")


def _moved(location: str):
    return redirect(location, 301)


def _imported_post_slug(*conditions, prefer=None) -> str | None:
    """The slug of the visible imported post matching any of ``conditions`` (one matching ``prefer`` first)."""
    order = [ImportedItem.id] if prefer is None else [case((prefer, 0), else_=1), ImportedItem.id]
    return db.session.scalar(select(Post.slug).join(ImportedItem, ImportedItem.post_id == Post.id)
                             .where(or_(*conditions), Post.visible_clause()).order_by(*order).limit(1))


def _to_post(*conditions, prefer=None):
    """301 to the visible imported post matching ``conditions`` (``prefer`` first), else 404."""
    slug = _imported_post_slug(*conditions, prefer=prefer)
    if slug is None:
        abort(404, description=_NOT_HERE)
    return _moved(url_for("public.post", slug=slug))


def _to_dated_post(slug: str):
    """301 to the post a dated permalink named: the one with this very address, else the one with its slug."""
    path = request.path.lower().rstrip("/")
    return _to_post(ImportedItem.link_path == path, ImportedItem.wp_slug == slug.lower(),
                    prefer=ImportedItem.link_path == path)


@bp.get("/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/<int(fixed_digits=2):day>/<slug>/",
        strict_slashes=False)
def old_dated_post(year: int, month: int, day: int, slug: str):
    """A WordPress permalink with the post's date: redirect to the post."""
    return _to_dated_post(slug)


@bp.get("/<int(fixed_digits=4):year>/<int(fixed_digits=2):month>/<slug>/", strict_slashes=False)
def old_month_post(year: int, month: int, slug: str):
    """A WordPress permalink with the post's month: redirect to the post."""
    return _to_dated_post(slug)


def _to_term(taxonomy: str, path: str):
    """301 to the tag a WordPress tag or category became (or its feed), if a visitor may see it; else 404."""
    segments = [s for s in path.lower().split("/") if s]
    feed = bool(segments) and segments[-1] == "feed"
    if feed:
        segments.pop()
    if not segments:
        abort(404)
    tag_slug = db.session.scalar(
        select(Tag.slug).join(ImportedTerm, ImportedTerm.tag_id == Tag.id)
        .where(ImportedTerm.taxonomy == taxonomy, ImportedTerm.wp_slug == segments[-1],
               Tag.posts.any(Post.visible_clause())))
    if tag_slug is None:
        abort(404, description="No published post carries this tag.")
    if feed:
        return _moved(url_for("public.tag_feed", slug=tag_slug, fmt="rss"))
    return _moved(url_for("public.tag", slug=tag_slug))


@bp.get("/tag/<path:path>/", strict_slashes=False)
def old_tag(path: str):
    """A WordPress tag's page or feed: redirect to the tag's."""
    return _to_term("post_tag", path)


@bp.get("/category/<path:path>/", strict_slashes=False)
def old_category(path: str):
    """A WordPress category's page or feed (its parents in the address): redirect to the tag it became."""
    return _to_term("category", path)


@bp.get("/feed/", strict_slashes=False)
@bp.get("/feed/<any(rss, rss2, atom):fmt>/", strict_slashes=False)
def old_feed(fmt: str = "rss"):
    """WordPress's feed addresses: redirect to the site's feed."""
    return _moved(url_for("public.site_feed", fmt="atom" if fmt == "atom" else "rss"))


@bp.before_request
def old_plain_link():
    """``/?p=123``, WordPress's plain link to a post: redirect to the post (only when ``p`` is asked for)."""
    if request.endpoint != "public.home" or "p" not in request.args:
        return None
    wp_id = request.args["p"].strip()
    if not _WP_POST_ID.match(wp_id):
        return None
    return _to_post(ImportedItem.wp_post_id == int(wp_id))


def not_found(error: Exception):
    """The 404 handler: an address no route has may be a WordPress "post name" permalink; else the 404 page."""
    # Imported here: errors.py imports the API, which imports site_status, which imports this package.
    from .errors import handle_http_error

    match = _SINGLE_SEGMENT.match(request.path)
    if request.url_rule is None and match and request.method in ("GET", "HEAD"):
        slug = _imported_post_slug(ImportedItem.wp_slug == match.group(1).lower())
        if slug is not None:
            return _moved(url_for("public.post", slug=slug))
    return handle_http_error(error)
