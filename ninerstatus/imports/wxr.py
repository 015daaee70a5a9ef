"""A streaming reader of WordPress exports (WXR 1.0 to 1.2, as Tools → Export writes them).

The file is read with defusedxml's ``iterparse``: a document that declares
entities (the billion-laughs bomb, or an external entity reaching for a local
file or a URL) is refused before any entity is expanded, and nothing is ever
fetched. A WordPress export never declares any.

Each ``<item>`` and each channel-level author or term is handed over as a small
record as soon as its end tag is read, and then cleared from the tree, so the
memory a file takes does not grow with its number of posts. Problems in the
XML itself raise ``WxrError`` naming the line, wherever in the file they are:
the caller decides what to keep of what came before (the importer keeps
nothing).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import BinaryIO, Union
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import iterparse

_WP_NAMESPACE_PREFIX = "http://wordpress.org/export/"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_DC_CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
#: The WXR versions WordPress has written; a later one is read the same way, with a warning.
KNOWN_VERSIONS = ("1.0", "1.1", "1.2")


class WxrError(ValueError):
    """A file that cannot be read as a WordPress export; ``str()`` says why and, when known, where."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


@dataclass(frozen=True)
class WxrSite:
    """The exported site: its address (``wp:base_site_url`` or the channel's link) and the WXR version."""

    url: str
    version: str


@dataclass(frozen=True)
class WxrAuthor:
    """An author listed at the top of the export."""

    login: str
    email: str
    display_name: str


@dataclass(frozen=True)
class WxrTerm:
    """A category, tag or other term listed at the top of the export; ``parent`` is the parent's slug."""

    taxonomy: str
    slug: str
    name: str
    parent: str


@dataclass(frozen=True)
class WxrItem:
    """One ``<item>``: a post, page, attachment, menu item, template... as stored by WordPress."""

    post_type: str
    post_id: int | None
    guid: str
    title: str
    link: str
    content: str
    excerpt: str
    creator: str
    date_gmt: datetime | None
    date_local: datetime | None
    pub_date: datetime | None
    slug: str
    status: str
    password: str
    #: (domain, nicename, name) of each ``<category>`` element: domain "category", "post_tag", ...
    terms: tuple[tuple[str, str, str], ...]
    comments: int


Record = Union[WxrSite, WxrAuthor, WxrTerm, WxrItem]


def _local(tag: str) -> tuple[str, str]:
    """``(namespace, local name)`` of an ElementTree tag."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _is_wp(tag: str, name: str) -> bool:
    namespace, local = _local(tag)
    return local == name and namespace.startswith(_WP_NAMESPACE_PREFIX) and "excerpt" not in namespace


def _wp_text(element: Element, name: str) -> str:
    """The text of the first ``wp:NAME`` child of ``element`` (any WXR version), or ""."""
    for child in element:
        if _is_wp(child.tag, name):
            return child.text or ""
    return ""


def _child_text(element: Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "") if child is not None else ""


def wp_datetime(text: str) -> datetime | None:
    """A WXR date (``2018-06-20 14:03:11``) as an aware UTC datetime; None for the zero date or nonsense."""
    text = text.strip()
    try:
        value = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return value.replace(tzinfo=timezone.utc)


def _rfc822(text: str) -> datetime | None:
    try:
        value = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def _int_or_none(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 19 else None


def _item(element: Element) -> WxrItem:
    excerpt = ""
    comments = 0
    terms = []
    for child in element:
        namespace, local = _local(child.tag)
        if local == "encoded" and namespace.startswith(_WP_NAMESPACE_PREFIX) and "excerpt" in namespace:
            excerpt = child.text or ""
        elif _is_wp(child.tag, "comment"):
            comments += 1
        elif child.tag == "category":
            terms.append((child.get("domain", ""), child.get("nicename", ""), (child.text or "").strip()))
    return WxrItem(
        post_type=_wp_text(element, "post_type").strip() or "post",
        post_id=_int_or_none(_wp_text(element, "post_id")),
        guid=_child_text(element, "guid").strip(),
        title=_child_text(element, "title"),
        link=_child_text(element, "link").strip(),
        content=_child_text(element, _CONTENT),
        excerpt=excerpt,
        creator=_child_text(element, _DC_CREATOR).strip(),
        date_gmt=wp_datetime(_wp_text(element, "post_date_gmt")),
        date_local=wp_datetime(_wp_text(element, "post_date")),
        pub_date=_rfc822(_child_text(element, "pubDate")),
        slug=_wp_text(element, "post_name").strip(),
        status=_wp_text(element, "status").strip() or "draft",
        password=_wp_text(element, "post_password"),
        terms=tuple(terms),
        comments=comments,
    )


def _term(element: Element, local: str) -> WxrTerm:
    if local == "category":
        return WxrTerm("category", _wp_text(element, "category_nicename").strip(),
                       _wp_text(element, "cat_name").strip(), _wp_text(element, "category_parent").strip())
    if local == "tag":
        return WxrTerm("post_tag", _wp_text(element, "tag_slug").strip(), _wp_text(element, "tag_name").strip(), "")
    return WxrTerm(_wp_text(element, "term_taxonomy").strip(), _wp_text(element, "term_slug").strip(),
                   _wp_text(element, "term_name").strip(), _wp_text(element, "term_parent").strip())


def _author(element: Element) -> WxrAuthor:
    return WxrAuthor(_wp_text(element, "author_login").strip(), _wp_text(element, "author_email").strip(),
                     _wp_text(element, "author_display_name").strip())


def read_wxr(source: str | BinaryIO) -> Iterator[Record]:
    """Yield the site, then each author, term and item of the export at ``source`` (a path or a binary file).

    Raises ``WxrError`` for a file that is not well-formed XML (cut short,
    say), declares entities, or is not a WordPress export; ``OSError`` when
    it cannot be opened.
    """
    try:
        yield from _records(source)
    except EntitiesForbidden:
        raise WxrError("the file declares XML entities, which a WordPress export never does; "
                       "refused so that nothing is expanded or fetched") from None
    except ExternalReferenceForbidden:
        raise WxrError("the file refers to an external document, which a WordPress export never does; "
                       "refused so that nothing is fetched") from None
    except DefusedXmlException as error:
        raise WxrError(f"the file was refused as unsafe XML ({error})") from None
    except ParseError as error:
        line = error.position[0] if getattr(error, "position", None) else None
        reason = str(error).split(": line", 1)[0]
        if reason == "no element found":
            reason = "the file ends before the export does (is it cut short?)"
        raise WxrError(f"not well-formed XML: {reason}", line) from None


def _records(source: str | BinaryIO) -> Iterator[Record]:
    depth = 0
    channel: Element | None = None
    version = ""
    site_url = ""
    channel_link = ""
    site_sent = False
    for event, element in iterparse(source, events=("start", "end"), forbid_dtd=False):
        if event == "start":
            depth += 1
            if depth == 1 and _local(element.tag)[1] != "rss":
                raise WxrError(f"the document is a <{_local(element.tag)[1]}>, not a WordPress export (an <rss>)")
            if depth == 2 and _local(element.tag)[1] == "channel":
                channel = element
            continue
        depth -= 1
        if depth != 2 or channel is None:
            continue
        # A direct child of <channel> is complete: read it, then drop it and everything before it.
        tag = element.tag
        namespace, local = _local(tag)
        if tag == "link":
            channel_link = (element.text or "").strip()
        elif _is_wp(tag, "wxr_version"):
            version = (element.text or "").strip()
        elif _is_wp(tag, "base_site_url") or (_is_wp(tag, "base_blog_url") and not site_url):
            site_url = (element.text or "").strip()
        elif _is_wp(tag, "author") or _is_wp(tag, "category") or _is_wp(tag, "tag") or _is_wp(tag, "term") \
                or tag == "item":
            if not site_sent:
                if not version:
                    raise WxrError("the file has no wp:wxr_version before its content: "
                                   "not a WordPress export (make one with Tools → Export)")
                yield WxrSite(site_url or channel_link, version)
                site_sent = True
            if tag == "item":
                yield _item(element)
            elif local == "author":
                yield _author(element)
            else:
                yield _term(element, local)
        channel.clear()
    if not site_sent:
        if channel is None or not version:
            raise WxrError("the file has no WordPress export channel (make one with Tools → Export)")
        yield WxrSite(site_url or channel_link, version)
