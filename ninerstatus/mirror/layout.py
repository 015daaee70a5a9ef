"""Where each address of the site lives as a file in the mirror, so nginx or a CDN serves it as it is.

The mirror keeps the live site's addresses: ``/posts/mail-delays`` is
``posts/mail-delays/index.html``, ``/api/servers`` is
``api/servers/index.json`` and ``/feed.atom`` is ``feed.atom``. A web server
finds them with ``try_files $uri $uri/index.html $uri/index.json`` (see the
README's nginx snippet), and gives each its type by the file's extension.

Query strings cannot select a file, so the pages of a list that the live site
numbers with ``?page=2`` are ``page/2/`` beneath the list in the mirror; the
pager of a mirror page links there (``mirror_page_url``).
"""
from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import unquote

#: The file a folder's address is served from, by what the document is.
INDEX_FILES = {"html": "index.html", "json": "index.json"}


def mirror_page_url(list_url: str, number: int) -> str:
    """The mirror's address of page ``number`` of the list at ``list_url`` (page 1 is the list itself)."""
    if number <= 1:
        return list_url
    return f"{list_url.rstrip('/')}/page/{number}/"


def file_for(url_path: str, kind: str) -> PurePosixPath:
    """The file, relative to the mirror's root, that answers ``url_path`` (an address without the site's root).

    ``kind`` is "html" or "json" for a document kept as its folder's index
    file, "file" for one whose address already names its file (``feed.atom``,
    ``summary.json``, an asset). The address is percent-decoded, as a web
    server decodes it before it looks for the file. Anything that could leave
    the mirror or name no plain file (``..``, an empty segment, a NUL) is
    refused: addresses come from slugs and codes stored in the database.
    """
    segments = unquote(url_path).split("/")
    inner, last = segments[1:-1], segments[-1]
    if (segments[0] != "" or any(s in ("", ".", "..") for s in inner) or last in (".", "..")
            or "\0" in url_path or "%00" in url_path or (kind == "file" and not last)):
        raise ValueError(f"{url_path!r} is not a plain address")
    relative = PurePosixPath("/".join(segments[1:]).rstrip("/") or ".")
    return relative if kind == "file" else relative / INDEX_FILES[kind]
