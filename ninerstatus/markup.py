"""The one place post HTML is sanitised, plus the plain-text helpers built on it.

Post bodies come from a WYSIWYG editor (or a paste from a word processor) and
are sanitised once, at save time, against a fixed allowlist. Sanitising an
already clean body changes nothing, so saving twice is harmless.

Images are kept only when they come from the site's own image store
(uploads.py): an image from elsewhere would tell another site who reads the
post and when, and ``data:`` or ``javascript:`` sources are no images at all.
The editor wraps each image in a ``<figure>`` with an optional caption.

Request threads sanitise at the same time, and a bleach Cleaner is not
thread-safe (its parser keeps the body it is reading), so each thread builds
its own and keeps it. The parser under it does bounded work per byte on any
body, however hostile (see bounded_html.py).
"""
from __future__ import annotations

import html
import re
import threading
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter

from .bounded_html import BoundedParser, BoundedWalker, canonical_markup
from .uploads import NAME_PATTERN, UPLOADS_PATH

ALLOWED_TAGS = frozenset({
    "p", "br", "a", "strong", "b", "em", "i", "code", "pre", "ul", "ol", "li", "blockquote",
    "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td", "img", "figure", "figcaption",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "th": ["colspan", "rowspan"],
                      "td": ["colspan", "rowspan"], "img": ["src", "alt", "width", "height"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Everything XML 1.0 forbids: C0 controls except tab/newline/return, surrogates,
# U+FFFE/U+FFFF. They have no meaning in a post and would break the feeds.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def strip_control_chars(text: str) -> str:
    """Return ``text`` without the characters an XML 1.0 document may not contain."""
    return _CONTROL_CHARS.sub("", text or "")


class _OutboundLinks(Filter):
    """Give links that leave the site ``rel="noopener nofollow"``; local links get no rel at all.

    Only existing links are touched: a URL written as text stays text, so the editor's
    output is not rewritten behind the author's back.
    """

    def __init__(self, source, site_host: str | None) -> None:
        super().__init__(source)
        self.site_host = site_host

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "a":
                attributes = token["data"]
                if self._leaves_site(attributes.get((None, "href"), "")):
                    attributes[(None, "rel")] = "noopener nofollow"
                else:
                    attributes.pop((None, "rel"), None)
            yield token

    def _leaves_site(self, href: str) -> bool:
        try:
            host = urlsplit(href).hostname
        except ValueError:  # bleach let it through, so a browser may follow it: treat it as foreign
            return True
        return bool(host) and host != self.site_host


# An image in the store, under the site's own address (after any path the site is mounted at).
_OWN_IMAGE_PATH = re.compile(rf"\A(?:/[\w.~-]+)*{re.escape(UPLOADS_PATH)}{NAME_PATTERN}\Z")
_PIXELS = re.compile(r"\A[0-9]{1,5}\Z")


class _OwnImagesOnly(Filter):
    """Keep an ``<img>`` only when its source is an image in the site's own store; sizes only as numbers."""

    def __init__(self, source, site_host: str | None) -> None:
        super().__init__(source)
        self.site_host = site_host

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "img":
                attributes = token["data"]
                if not self._is_own_image(attributes.get((None, "src"), "")):
                    continue
                for size in ((None, "width"), (None, "height")):
                    if size in attributes and not _PIXELS.match(attributes[size]):
                        del attributes[size]
            yield token

    def _is_own_image(self, src: str) -> bool:
        try:
            parts = urlsplit(src)
            host = parts.hostname
        except ValueError:
            return False
        if parts.scheme or parts.netloc:
            if parts.scheme not in ("http", "https") or host is None or host != self.site_host:
                return False
        return not (parts.query or parts.fragment) and bool(_OWN_IMAGE_PATH.match(parts.path))


class _NoEmptyParagraphs(Filter):
    """Drop ``<p></p>``: the editor keeps an image inside a paragraph, which HTML closes before the figure."""

    def __iter__(self):
        held = None
        for token in super().__iter__():
            if held is not None:
                if not (token["type"] == "EndTag" and token["name"] == "p"):
                    yield held
                    yield token
                held = None
            elif token["type"] == "StartTag" and token["name"] == "p":
                held = token
            else:
                yield token
        if held is not None:
            yield held


class _PreWithoutLeadingNewline(Filter):
    """Drop the line feeds that start the text of a ``<pre>``.

    A parser drops one line feed right after ``<pre>`` (html5lib not inside table
    cells), so a ``<pre>`` that starts with one would lose it each time the body is
    sanitised again. Without them it reads the same in every parser.
    """

    def __iter__(self):
        after_pre = False
        for token in super().__iter__():
            if after_pre and token["type"] in ("Characters", "SpaceCharacters"):
                token = {**token, "data": token["data"].lstrip("\n")}
                after_pre = not token["data"]
            else:
                after_pre = token["type"] == "StartTag" and token["name"] == "pre"
            yield token


# Passes after the first one, at most, to settle a body that broke HTML's rules.
_MAX_SETTLING_PASSES = 2


class _Cleaner(bleach.Cleaner):
    """The allowlist as a bleach Cleaner on the bounded parser; for one thread only."""

    def __init__(self) -> None:
        super().__init__(tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS,
                         strip=True, strip_comments=True,
                         filters=[lambda source: _OutboundLinks(source, self.site_host),
                                  lambda source: _OwnImagesOnly(source, self.site_host), _NoEmptyParagraphs,
                                  _PreWithoutLeadingNewline])
        self.parser = BoundedParser(tags=self.tags, strip=self.strip, consume_entities=False,
                                    namespaceHTMLElements=False)
        self.walker = BoundedWalker
        self.site_host: str | None = None

    def sanitise(self, body: str, site_host: str | None) -> str:
        """Return ``body`` sanitised, in a form that sanitising again leaves as it is.

        HTML that breaks the standard's rules can build a tree whose HTML reads back
        differently (content fostered out of a table into a heading, a link spread
        over the blocks around it...). Such a result is sanitised again until a pass
        reads it without breaking a rule, which one more pass nearly always does. A
        body that still breaks them after two more was built to (an unclosed link
        around deeply nested blocks spreads a little further with each pass), and is
        kept as its text alone.
        """
        self.site_host = site_host
        clean = self.clean(canonical_markup(strip_control_chars(body), ALLOWED_TAGS, ALLOWED_ATTRIBUTES))
        for _ in range(_MAX_SETTLING_PASSES):
            if not (clean and self.parser.irregular):
                return clean
            clean = self.clean(clean)
        if clean and self.parser.irregular:
            clean = self.clean(f"<p>{html.escape(html_to_text(clean), quote=False)}</p>")
        return clean


_per_thread = threading.local()


def sanitise_html(body: str, site_host: str | None = None) -> str:
    """Return ``body`` reduced to the allowlist, with outbound links marked.

    ``site_host`` is the site's own host name: links to it are not outbound.
    Safe to call from any number of threads at once; sanitising the result again
    changes nothing.
    """
    cleaner = getattr(_per_thread, "cleaner", None)
    if cleaner is None:
        cleaner = _per_thread.cleaner = _Cleaner()
    return cleaner.sanitise(body, site_host)


# Tags that end a line of text become a space; inline ones (strong, a, code...)
# vanish, so "drained</strong>." stays "drained." in plain text.
_BLOCK_TAG_RE = re.compile(r"</?(?:p|br|li|ul|ol|h[2-4]|blockquote|pre|table|thead|tbody|tr|td|th|figure|figcaption)"
                           r"\b[^>]*>",
                           re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")
_SPACE_RE = re.compile(r"\s+")


def html_to_text(body: str) -> str:
    """Return the readable text of sanitised HTML, whitespace collapsed."""
    text = _TAG_RE.sub("", _BLOCK_TAG_RE.sub(" ", body or ""))
    return _SPACE_RE.sub(" ", html.unescape(text)).strip()


def make_excerpt(body: str, limit: int = 280) -> str:
    """Return a plain-text excerpt of at most ``limit`` characters, cut at a word."""
    text = html_to_text(body)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"
