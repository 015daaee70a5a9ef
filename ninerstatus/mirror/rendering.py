"""Drawing the mirror's documents through the site itself, so they are the live pages, made for the mirror.

Each document is asked of an application of its own, built from the site's
settings (``mirror_app``): it answers at the mirror's address, so every link
``url_for`` draws carries the mirror's root (``/status/...``) and every
absolute address (in feeds) its host, with no rewriting of the HTML; and it
keeps nothing from one export to the next (page and API caches off, the
sidebar drawn once per export), so a refresh always shows the database as
it is now, and nothing drawn for the mirror is ever served on the live site.

The request carries a ``MirrorRendering`` in its WSGI environ; templates see
it as ``static_mirror`` (see ``templating.py``) and draw the few things a
static copy cannot do differently (the search form, the pager, the banner
that says how old the copy is). A key with a dot cannot come from an HTTP
header, so no visitor of the live site can ask for a mirror page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flask import Flask

#: Where a request drawn for the mirror carries its ``MirrorRendering``.
ENVIRON_KEY = "ninerstatus.mirror"
#: Settings of the mirror's application beside the site's. No page or API document is kept (each is drawn
#: once per export anyway); the sidebar, the same on every page, is drawn once per export
#: (``MirrorSite.export`` empties it first). A page that fails answers 500, as it would to a visitor, and
#: is left out, rather than stopping the export (even when the site runs its tests).
SETTINGS = {"PAGE_CACHE_SECONDS": 0, "API_CACHE_SECONDS": 0, "SIDEBAR_CACHE_SECONDS": 7 * 86400,
            "PROPAGATE_EXCEPTIONS": False}


@dataclass(frozen=True)
class MirrorRendering:
    """What a page drawn for the mirror needs to know: when it was drawn and where the live site is.

    ``live_url`` is the live site's address (``SITE_URL``, "" when unknown)
    without its final slash; forms that need the server are sent there.
    """

    as_of: datetime
    live_url: str

    def live(self, path: str) -> str | None:
        """``path`` (an address on the site's root) on the live site, or None when it is not known."""
        return f"{self.live_url}{path}" if self.live_url else None


@dataclass(frozen=True)
class BaseUrl:
    """Where the mirror is served: ``https://mirror.example.net/status/`` as its origin and root path."""

    origin: str
    root: str

    @classmethod
    def parse(cls, url: str) -> BaseUrl:
        """Read ``--base-url``: an http(s) address with a host, maybe a path; no query or fragment."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"{url!r} is not a base address: give one like https://mirror.example.net/status/")
        return cls(f"{parts.scheme}://{parts.netloc}", "/" + parts.path.strip("/") if parts.path.strip("/") else "")

    @property
    def url(self) -> str:
        """The address of the mirror's home page, ending in a slash."""
        return f"{self.origin}{self.root}/"

    @property
    def host(self) -> str:
        return urlsplit(self.origin).netloc


def mirror_app(site: Flask, base: BaseUrl) -> Flask:
    """An application on ``site``'s database and settings that answers at ``base`` (and ``SETTINGS``)."""
    from .. import create_app

    host = urlsplit(base.origin).hostname
    config = {**site.config, **SETTINGS, "TRUSTED_HOSTS": [host], "SERVER_NAME": base.host,
              "APPLICATION_ROOT": base.root or "/", "PREFERRED_URL_SCHEME": urlsplit(base.origin).scheme}
    app = create_app(config, check_secret=False)
    app.instance_path = site.instance_path  # the image store may live there
    return app
