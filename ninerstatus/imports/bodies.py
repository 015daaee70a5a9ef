"""A WordPress body as stored, turned into the site's sanitised HTML.

WordPress stores a block-editor post as HTML between ``<!-- wp:... -->``
comments, and a classic-editor post as typed text whose paragraphs it adds
when showing it (``wpautop``, only for posts without blocks). Shortcodes are
expanded or dropped (shortcodes.py), images copied or made links (images.py),
scripts and style sheets are dropped with their code, and the result goes through the site's one sanitiser (markup.py), so a
hostile body from the export is as harmless as one typed by staff.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Callable

from ..markup import html_to_text, make_excerpt, sanitise_html
from .autop import wpautop
from .images import ImageMover
from .shortcodes import convert_shortcodes

_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.DOTALL)
# Scripts and style sheets pasted into a post (widgets, embeds): the sanitiser would keep their code as text.
_CODE_ELEMENT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.DOTALL | re.IGNORECASE)


def strip_block_comments(body: str) -> tuple[str, bool]:
    """``body`` without its block-editor comments, and whether it had any."""
    stripped, found = _BLOCK_COMMENT.subn("", body)
    return stripped, found > 0


def body_html(content: str, images: ImageMover, counts: Counter, warn: Callable[[str], None],
              site_host: str | None) -> str:
    """The sanitised HTML of a stored WordPress body."""
    content, has_blocks = strip_block_comments(_CODE_ELEMENT.sub("", content))
    content = convert_shortcodes(content.strip(), counts)
    if not has_blocks:
        content = wpautop(content)
    return sanitise_html(images.rewrite(content, counts, warn), site_host=site_host)


def excerpt_text(excerpt: str, body: str) -> str:
    """The post's plain-text excerpt: the one written in WordPress when there is one, else the body's start."""
    written = html_to_text(sanitise_html(strip_block_comments(_CODE_ELEMENT.sub("", excerpt))[0]))
    return make_excerpt(f"<p>{written}</p>") if written else make_excerpt(body)
