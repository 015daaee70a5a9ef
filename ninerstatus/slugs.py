"""URL slugs for posts, tags and anything else with a readable address."""
from __future__ import annotations

import re
import unicodedata
from typing import Callable

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 80) -> str:
    """Return a lowercase ASCII slug for ``text`` (``"NC036: Migration"`` -> ``"nc036-migration"``)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_WORD.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "item"


def unique_slug(text: str, taken: Callable[[str], bool], max_length: int = 80) -> str:
    """Return a slug for ``text`` that ``taken`` does not report as already used."""
    base = slugify(text, max_length=max_length - 6)
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
