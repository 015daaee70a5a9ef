"""Images in imported bodies: copied into the site's image store from a local folder, or kept as links.

The site shows only images from its own store (see markup.py), so an
``<img>`` of the old site would simply vanish. Instead:

- with ``--uploads DIR`` (a copy of the old site's ``wp-content/uploads``),
  an image of the old site's uploads is read from that folder, checked and
  re-encoded by the image store (uploads.py) like any image staff add, and
  the post shows the stored copy; a link to the full-size picture around a
  thumbnail is pointed at the stored copy of that picture too;
- otherwise, or when the file is missing or refused, the image becomes a link
  to where it was (its text the image's ``alt``, or its file name), or just
  that text when it was already inside a link. Images from elsewhere become
  links the same way.

Nothing is ever fetched over the network. Only files inside DIR are read,
whatever ``..`` an address holds.
"""
from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Callable
from urllib.parse import unquote, urlsplit

from ..uploads import UPLOADS_PATH, ImageRefused
from .attributes import parse_attributes

_UPLOADS_MARK = "/wp-content/uploads/"
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_TAG = re.compile(r"<(/?)(a|img)\b([^>]*)>", re.IGNORECASE)

#: Reads a file's bytes into the store and returns the stored name (``ImageRefused`` when it is no image).
Store = Callable[[bytes], str]


class ImageMover:
    """Rewrites the images of one import's bodies; remembers each file it copied, so it is read once.

    :param site_url: the old site's address (its host marks its own uploads).
    :param folder: the local copy of its uploads folder, or None to keep every image as a link.
    :param store: puts a picture in the site's image store (or only checks it, for a dry run).
    :param max_bytes: larger files are not read.
    """

    def __init__(self, site_url: str, folder: Path | None, store: Store, max_bytes: int) -> None:
        self.site_host = (urlsplit(site_url).hostname or "").lower()
        self.folder = folder.resolve() if folder is not None else None
        self.store = store
        self.max_bytes = max_bytes
        self._stored: dict[Path, str | None] = {}

    def rewrite(self, body: str, counts: Counter, warn: Callable[[str], None]) -> str:
        """``body`` with each image copied or turned into a link (counted in ``counts``)."""
        if "<img" not in body.lower() and "<a" not in body.lower():
            return body
        inside_link = 0

        def replace(match: re.Match) -> str:
            nonlocal inside_link
            closing, name = match.group(1), match.group(2).lower()
            if name == "a":
                inside_link = max(0, inside_link + (-1 if closing else 1))
                return match.group(0) if closing else self._link(match, warn)
            attributes = parse_attributes(match.group(3))
            src = attributes.get("src", "")
            stored = self._copy(src, warn)
            if stored is not None:
                counts["images copied"] += 1
                kept = {k: v for k, v in attributes.items() if k in ("alt", "width", "height")}
                return "<img " + " ".join(f'{k}="{html.escape(v)}"' for k, v in
                                          {"src": stored, **kept}.items()) + ">"
            counts["images kept as links"] += 1
            label = html.escape(attributes.get("alt", "").strip() or _file_name(src) or "image")
            if inside_link or not src.lower().startswith(("http://", "https://", "/")):
                return label
            return f'<a href="{html.escape(src)}">{label}</a>'

        return _TAG.sub(replace, body)

    def _link(self, match: re.Match, warn: Callable[[str], None]) -> str:
        """An opening ``<a>`` pointed at the stored copy when it links to an image of the old uploads."""
        href = parse_attributes(match.group(3)).get("href", "")
        if not href.lower().split("?", 1)[0].endswith(_IMAGE_SUFFIXES):
            return match.group(0)
        stored = self._copy(href, warn)
        return match.group(0) if stored is None else f'<a href="{html.escape(stored)}">'

    def _copy(self, url: str, warn: Callable[[str], None]) -> str | None:
        """The site's address of the stored copy of ``url``, or None when it stays where it is."""
        path = self._local_path(url)
        if path is None:
            return None
        if path not in self._stored:
            self._stored[path] = self._read_into_store(path, url, warn)
        name = self._stored[path]
        return None if name is None else UPLOADS_PATH + name

    def _local_path(self, url: str) -> Path | None:
        if self.folder is None:
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        host = (parts.hostname or "").lower()
        if (parts.scheme or parts.netloc) and host != self.site_host:
            return None
        position = parts.path.find(_UPLOADS_MARK)
        if position == -1:
            return None
        relative = PurePosixPath(unquote(parts.path[position + len(_UPLOADS_MARK):]))
        path = (self.folder / relative).resolve()
        return path if path.is_relative_to(self.folder) and path != self.folder else None

    def _read_into_store(self, path: Path, url: str, warn: Callable[[str], None]) -> str | None:
        try:
            if path.stat().st_size > self.max_bytes:
                warn(f"{url}: the file in the uploads folder is too large for the image store; kept as a link")
                return None
            return self.store(path.read_bytes())
        except FileNotFoundError:
            warn(f"{url}: not in the uploads folder; kept as a link")
        except OSError as error:
            warn(f"{url}: could not be read from the uploads folder ({error.strerror}); kept as a link")
        except ImageRefused as refusal:
            warn(f"{url}: not taken by the image store ({refusal}); kept as a link")
        return None


def _file_name(url: str) -> str:
    try:
        return unquote(PurePosixPath(urlsplit(url).path).name)
    except ValueError:
        return ""
