"""Public pages rendered once per change, not once per visitor: a few seconds of memory in each worker.

A page with the sidebar takes tens of milliseconds to draw (every server, its
checks and its 90-day strip); the same bytes from memory take tens of
microseconds. ``PageCache`` is WSGI middleware that keeps the answers to
anonymous GETs for ``PAGE_CACHE_SECONDS`` (default 5, far under a probe
interval), keyed by scheme, host, path and query string. It behaves like a
shared HTTP cache that trusts the views' own headers:

- it keeps only a ``200`` whose ``Cache-Control`` says ``public`` (the public
  pages and the API say so; staff pages and anything answered to a signed-in
  account say ``private, no-store``), that sets no cookie and varies on
  nothing but the cookie;
- it never answers, nor keeps the answer to, a request that carries the
  session or remember-me cookie or credentials: staff always get a page drawn
  for them, and no page drawn for them is ever kept;
- any other request (staff saving a post, say) that succeeds empties it at
  once in this process (``ClearOnChange``, which empties the sidebar's cache
  too); other worker processes follow within the period;
- it answers ``If-None-Match`` itself with ``304`` and adds ``Age``, so a
  browser's own 30 s never adds up to more than the view allowed.

When an entry runs out, one request draws the page again while the others
are still answered from the old entry, so a busy page is drawn once per
period, not once per waiting visitor.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from flask import Flask
from werkzeug.http import is_resource_modified, parse_cookie, unquote_etag

from .sidebar import init_sidebar_cache

EXTENSION_KEY = "ninerstatus.page_cache"
SAFE_METHODS = frozenset({"GET", "HEAD"})
#: Pages kept at most; the host and query string are part of the key, so it must not grow without bound.
MAX_ENTRIES = 256
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Seconds the old entry is still served while one request draws the page again.
REFRESH_GRACE = 2.0
#: Headers a 304 leaves out (RFC 9110: it describes the stored response, without its content).
_CONTENT_HEADERS = frozenset({"content-length", "content-type", "content-encoding", "content-range"})


@dataclass
class Entry:
    """One kept answer, and until when it may be served."""

    status: str
    headers: list[tuple[str, str]]
    body: bytes
    stored: float
    expires: float
    etag: str | None
    refreshing_until: float = 0.0


class PageCache:
    """WSGI middleware keeping anonymous public answers for ``seconds``; see the module docstring.

    :param private_cookies: names of the cookies that mark a request as someone's own.
    :param clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, wsgi_app, seconds: float, private_cookies: Iterable[str],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.wsgi_app = wsgi_app
        self.seconds = seconds
        self.private_cookies = frozenset(private_cookies)
        self.clock = clock
        self._entries: dict[tuple, Entry] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] not in SAFE_METHODS or not self._anonymous(environ):
            return self.wsgi_app(environ, start_response)
        key = (environ["wsgi.url_scheme"], environ.get("HTTP_HOST", ""), environ.get("SCRIPT_NAME", ""),
               environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""))
        entry = self._usable(key)
        if entry is not None:
            return self._answer(entry, environ, start_response)
        if environ["REQUEST_METHOD"] == "HEAD":
            return self.wsgi_app(environ, start_response)
        return self._draw(key, environ, start_response)

    def clear(self) -> None:
        """Forget every page; pages being drawn now are not kept either."""
        with self._lock:
            self._entries = {}
            self._generation += 1

    # ------------------------------------------------------------ parts

    def _anonymous(self, environ) -> bool:
        if "HTTP_AUTHORIZATION" in environ:
            return False
        cookies = environ.get("HTTP_COOKIE")
        return not cookies or self.private_cookies.isdisjoint(parse_cookie(cookies))

    def _usable(self, key: tuple) -> Entry | None:
        """The entry to answer with, or None when this request must draw the page."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        now = self.clock()
        if now < entry.expires:
            return entry
        with self._lock:
            if now < entry.refreshing_until:
                return entry  # another request is drawing it right now
            entry.refreshing_until = now + REFRESH_GRACE
        return None

    def _draw(self, key: tuple, environ, start_response):
        """Let the app answer; keep the answer when its headers allow."""
        generation = self._generation
        kept: list = []
        passed = []

        def choose(status, headers, exc_info=None):
            if not kept and not passed and _shareable(status, headers):
                kept.append((status, list(headers)))
                return lambda data: None  # the write() callable; the site's views return bodies
            passed.append(True)
            return start_response(status, headers, exc_info)

        body = self.wsgi_app(environ, choose)
        if not kept:
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        status, headers = kept[0]
        now = self.clock()
        etag = next((value for name, value in headers if name.lower() == "etag"), None)
        entry = Entry(status, headers, data, now, now + self.seconds, unquote_etag(etag)[0] if etag else None)
        if len(data) <= MAX_BODY_BYTES:
            self._keep(key, entry, generation)
        return self._answer(entry, environ, start_response)

    def _keep(self, key: tuple, entry: Entry, generation: int) -> None:
        with self._lock:
            if generation != self._generation:
                return  # content changed while the page was being drawn: it may be out of date already
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {k: e for k, e in self._entries.items() if e.expires > entry.stored}
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries = {}
            self._entries[key] = entry

    def _answer(self, entry: Entry, environ, start_response):
        headers = entry.headers + [("Age", str(int(self.clock() - entry.stored)))]
        if entry.etag is not None and not is_resource_modified(environ, etag=entry.etag):
            start_response("304 Not Modified", [(n, v) for n, v in headers if n.lower() not in _CONTENT_HEADERS])
            return []
        start_response(entry.status, headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry.body]


class Clearable(Protocol):
    """A cache that ``ClearOnChange`` empties."""

    def clear(self) -> None: ...


class ClearOnChange:
    """WSGI middleware: once a request that may change content (not GET or HEAD) succeeds, empty ``caches``.

    Only this process hears of it: other workers' caches follow when their entries run out.
    """

    def __init__(self, wsgi_app, caches: Iterable[Clearable]) -> None:
        self.wsgi_app = wsgi_app
        self.caches = tuple(caches)

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] in SAFE_METHODS:
            return self.wsgi_app(environ, start_response)
        outcome = []

        def note_status(status, headers, exc_info=None):
            outcome.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, note_status)
        finally:
            # A failed attempt (refused CSRF token, invalid form) changed nothing.
            if not outcome or outcome[0] < 400:
                for cache in self.caches:
                    cache.clear()


def _shareable(status: str, headers: list[tuple[str, str]]) -> bool:
    """True for a complete answer the views marked public that sets no cookie and varies only on cookies."""
    if not status.startswith("200 "):
        return False
    cache_control: set[str] = set()
    for name, value in headers:
        name = name.lower()
        if name == "set-cookie":
            return False
        if name == "cache-control":
            cache_control.update(part.strip().split("=")[0].lower() for part in value.split(","))
        elif name == "vary" and {part.strip().lower() for part in value.split(",")} - {"cookie"}:
            return False
    return "public" in cache_control and not cache_control & {"private", "no-store", "no-cache"}


def init_page_cache(app: Flask) -> None:
    """Keep pages unless ``PAGE_CACHE_SECONDS`` is 0; empty them and the kept sidebar after each change."""
    caches: list[Clearable] = []
    seconds = float(app.config["PAGE_CACHE_SECONDS"])
    if seconds > 0:
        cookies = (app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
        cache = PageCache(app.wsgi_app, seconds, cookies)
        app.wsgi_app = cache
        app.extensions[EXTENSION_KEY] = cache
        caches.append(cache)
    sidebar_cache = init_sidebar_cache(app)
    if sidebar_cache is not None:
        caches.append(sidebar_cache)
    if caches:
        app.wsgi_app = ClearOnChange(app.wsgi_app, caches)
