"""RSS 2.0 and Atom feeds for the whole site, each tag and each server.

Feeds are built with ElementTree rather than templates so escaping is never
forgotten, and characters XML 1.0 cannot carry are dropped first: a feed must
parse whatever staff pasted into a post.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urljoin
from xml.etree import ElementTree as ET

from flask import Response, abort, current_app, get_template_attribute, url_for
from sqlalchemy import select

from ..extensions import db
from ..markup import strip_control_chars as xml_text
from ..models import Post, Server, Tag
from ..timeutil import utcnow
from . import bp
from .views import visible_tag_or_404

ATOM_NS = "http://www.w3.org/2005/Atom"
@dataclass(frozen=True)
class FeedSpec:
    """What one feed is about: its title, the page it mirrors and its posts."""

    title: str
    page_url: str
    self_path: str
    posts: list[Post]


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def feed_content(post: Post) -> str:
    """A post's HTML for feeds: its incident updates, newest first, then its text."""
    return str(get_template_attribute("_macros.html", "timeline")(post)) + post.body_html


def _updated(spec: FeedSpec) -> datetime:
    return max((p.updated_at for p in spec.posts), default=utcnow())


def render_rss(spec: FeedSpec) -> bytes:
    """Serialise ``spec`` as an RSS 2.0 document."""
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", spec.title)
    _sub(channel, "link", spec.page_url)
    _sub(channel, "description", current_app.config["SITE_TAGLINE"])
    _sub(channel, "atom:link", href=url_for_external(spec.self_path), rel="self", type="application/rss+xml")
    _sub(channel, "lastBuildDate", format_datetime(_updated(spec)))
    for post in spec.posts:
        link = url_for("public.post", slug=post.slug, _external=True)
        item = _sub(channel, "item")
        _sub(item, "title", post.title)
        _sub(item, "link", link)
        _sub(item, "guid", link, isPermaLink="true")
        _sub(item, "pubDate", format_datetime(post.published_at))
        for tag in post.tags:
            _sub(item, "category", tag.name)
        _sub(item, "description", feed_content(post))
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(rss, encoding="utf-8", xml_declaration=False)


def render_atom(spec: FeedSpec) -> bytes:
    """Serialise ``spec`` as an Atom 1.0 document."""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, "title", spec.title)
    _sub(feed, "id", spec.page_url)
    _sub(feed, "updated", _updated(spec).isoformat())
    _sub(feed, "link", href=spec.page_url, rel="alternate", type="text/html")
    _sub(feed, "link", href=url_for_external(spec.self_path), rel="self", type="application/atom+xml")
    for post in spec.posts:
        link = url_for("public.post", slug=post.slug, _external=True)
        entry = _sub(feed, "entry")
        _sub(entry, "title", post.title)
        _sub(entry, "id", link)
        _sub(entry, "link", href=link, rel="alternate", type="text/html")
        _sub(entry, "published", post.published_at.isoformat())
        _sub(entry, "updated", max(post.updated_at, post.published_at).isoformat())
        author = _sub(entry, "author")
        _sub(author, "name", post.author.name if post.author and post.author.name
             else current_app.config["COMPANY_NAME"])
        for tag in post.tags:
            _sub(entry, "category", term=tag.name)
        _sub(entry, "summary", post.excerpt)
        _sub(entry, "content", feed_content(post), type="html")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)


def url_for_external(path: str) -> str:
    """Return ``path`` (an already built site path, which holds the site's root) as an absolute URL.

    The host is the site's own (``SERVER_NAME`` when set), never one a client made up.
    """
    return urljoin(url_for("public.home", _external=True), path)


RENDERERS = {"rss": (render_rss, "application/rss+xml"), "atom": (render_atom, "application/atom+xml")}


def feed_response(spec: FeedSpec, fmt: str) -> Response:
    """Render ``spec`` in ``fmt`` (rss or atom) as a response with the right type."""
    render, mimetype = RENDERERS[fmt]
    return Response(render(spec), mimetype=mimetype, content_type=f"{mimetype}; charset=utf-8")


def _latest(statement) -> list[Post]:
    return list(db.session.scalars(statement.limit(current_app.config["FEED_ITEMS"])))


@bp.get("/feed.<any(rss, atom):fmt>")
def site_feed(fmt: str):
    """The whole site's feed."""
    spec = FeedSpec(current_app.config["SITE_NAME"], url_for("public.home", _external=True),
                    url_for("public.site_feed", fmt=fmt), _latest(Post.visible()))
    return feed_response(spec, fmt)


@bp.get("/tags/<slug>/feed.<any(rss, atom):fmt>")
def tag_feed(slug: str, fmt: str):
    """The feed of one tag's posts."""
    tag = visible_tag_or_404(slug)
    spec = FeedSpec(f"{current_app.config['SITE_NAME']}: {tag.name}",
                    url_for("public.tag", slug=slug, _external=True),
                    url_for("public.tag_feed", slug=slug, fmt=fmt),
                    _latest(Post.visible().where(Post.tags.any(Tag.id == tag.id))))
    return feed_response(spec, fmt)


@bp.get("/servers/<code>/feed.<any(rss, atom):fmt>")
def server_feed(code: str, fmt: str):
    """The feed of posts that affected one server."""
    server = db.session.scalar(select(Server).where(Server.code == code)) or abort(404)
    spec = FeedSpec(f"{current_app.config['SITE_NAME']}: {server.code}",
                    url_for("public.server", code=code, _external=True),
                    url_for("public.server_feed", code=code, fmt=fmt),
                    _latest(Post.visible().where(Post.servers.any(Server.id == server.id))))
    return feed_response(spec, fmt)
