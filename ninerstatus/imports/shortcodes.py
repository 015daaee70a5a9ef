"""WordPress shortcodes in an imported body: the ones that carry content become plain HTML, the rest go.

- ``[caption]`` (and the older ``[wp_caption]``) becomes a ``<figure>`` with a
  ``<figcaption>``, the shape the site's editor writes;
- ``[embed]URL[/embed]`` becomes a link to the URL: nothing is embedded from
  elsewhere on a status page;
- ``[gallery]``, ``[playlist]``, ``[audio]`` and ``[video]`` show media the
  site does not carry and are dropped, counted by name for the summary;
- ``[[caption]]`` is WordPress's way of writing a shortcode literally, and
  stays ``[caption]``; any other bracketed text is left as it is, as
  WordPress shows a shortcode no plugin handles.

Shortcodes are matched the way WordPress's ``get_shortcode_regex`` matches them.
"""
from __future__ import annotations

import html
import re
from collections import Counter

from .attributes import parse_attributes

CONVERTED = ("caption", "wp_caption", "embed")
DROPPED = ("gallery", "playlist", "audio", "video")

_SHORTCODE = re.compile(
    r"\[(\[?)(" + "|".join(CONVERTED + DROPPED) + r")(?![\w-])"
    r"([^\]/]*(?:/(?!\])[^\]/]*)*?)"      # attributes
    r"(?:(/)\]|\](?:([^\[]*(?:\[(?!/\2\])[^\[]*)*)\[/\2\])?)"  # self-closing, or content and closing tag
    r"(\]?)", re.DOTALL)
# WordPress's own split of a caption's content: the (linked) image, then the caption text.
_CAPTION_CONTENT = re.compile(r"((?:<a [^>]+>\s*)?<img [^>]+>(?:\s*</a>)?)(.*)", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"\Ahttps?://\S+\Z")


def _caption(attributes: dict[str, str], content: str) -> str:
    caption = attributes.get("caption")
    if caption is None:
        match = _CAPTION_CONTENT.match(content.strip())
        if match:
            content, caption = match.group(1), match.group(2).strip()
    caption_html = f"<figcaption>{caption}</figcaption>" if caption else ""
    return f"<figure>{content.strip()}{caption_html}</figure>"


def _embed(content: str) -> str:
    url = html.unescape(content.strip())
    if not _URL.match(url):
        return ""
    escaped = html.escape(url)
    return f'<p><a href="{escaped}">{escaped}</a></p>'


def convert_shortcodes(body: str, dropped: Counter) -> str:
    """``body`` with its shortcodes turned into HTML or removed; each removed one is counted in ``dropped``."""
    if "[" not in body:
        return body

    def replace(match: re.Match) -> str:
        if match.group(1) == "[" and match.group(6) == "]":
            return match.group(0)[1:-1]
        name, content = match.group(2), match.group(5) or ""
        if name in ("caption", "wp_caption"):
            return _caption(parse_attributes(match.group(3)), content)
        if name == "embed":
            return _embed(content)
        dropped[f"[{name}]"] += 1
        return ""

    return _SHORTCODE.sub(replace, body)
