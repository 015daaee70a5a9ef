"""Where a sign-in may send someone next: only to a path on this site."""
from __future__ import annotations

from urllib.parse import urlsplit


def safe_next(target: str | None) -> str | None:
    """Return ``target`` when it is a same-site path, otherwise None.

    Refused: absolute and scheme-relative URLs (``https://x``, ``//x``),
    backslashes (browsers read ``/\\x`` as ``//x``), and any whitespace or
    control character (browsers drop tabs and newlines from URLs, turning
    ``/\\t/x`` into ``//x``).
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
