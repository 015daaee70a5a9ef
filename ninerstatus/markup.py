"""The one place post HTML is sanitised, plus the plain-text helpers built on it.

Post bodies come from a WYSIWYG editor (or a paste from a word processor) and
are sanitised once, at save time, against a fixed allowlist. Sanitising an
already clean body changes nothing, so saving twice is harmless.
"""
from __future__ import annotations

import html
import re
from functools import partial
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import Linker

ALLOWED_TAGS = frozenset({
    "p", "br", "a", "strong", "b", "em", "i", "code", "pre", "ul", "ol", "li", "blockquote",
    "h2", "h3", "h4", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "th": ["colspan", "rowspan"],
                      "td": ["colspan", "rowspan"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})

# Everything XML 1.0 forbids: C0 controls except tab/newline/return, surrogates,
# U+FFFE/U+FFFF. They have no meaning in a post and would break the feeds.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def strip_control_chars(text: str) -> str:
    """Return ``text`` without the characters an XML 1.0 document may not contain."""
    return _CONTROL_CHARS.sub("", text or "")


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
)


def _mark_outbound(attrs: dict, new: bool = False, *, site_host: str | None) -> dict:
    """Give links that leave the site ``rel="noopener nofollow"``; keep local links untouched."""
    href = attrs.get((None, "href"), "")
    host = urlsplit(href).hostname
    if host and host != site_host:
        attrs[(None, "rel")] = "noopener nofollow"
    else:
        attrs.pop((None, "rel"), None)
    return attrs


def sanitise_html(body: str, site_host: str | None = None) -> str:
    """Return ``body`` reduced to the allowlist, with outbound links marked.

    ``site_host`` is the site's own host name: links to it are not outbound.
    """
    cleaned = _cleaner.clean(strip_control_chars(body))
    linker = Linker(callbacks=[partial(_mark_outbound, site_host=site_host)], skip_tags={"pre", "code"},
                    parse_email=False)
    # The linker only adjusts existing <a> tags here: plain-text URLs are left
    # as text so the editor's output is not rewritten behind the author's back.
    return linker.linkify(cleaned) if "<a" in cleaned else cleaned


# Tags that end a line of text become a space; inline ones (strong, a, code...)
# vanish, so "drained</strong>." stays "drained." in plain text.
_BLOCK_TAG_RE = re.compile(r"</?(?:p|br|li|ul|ol|h[2-4]|blockquote|pre|table|thead|tbody|tr|td|th)\b[^>]*>",
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
