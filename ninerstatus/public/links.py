"""Templates' ``url_for``, each link built once per worker for the same site address, endpoint and values.

A page links every server, post and tag it shows, a hundred links or more,
and Flask's ``url_for`` builds each afresh (a tenth of an uncached page).
What it builds for an absolute endpoint depends only on where the site is
reached (``request.root_url``: scheme, host and root path), the endpoint and
its values; the site adds no URL defaults. So the built link is kept, at
most ``URLS_KEPT`` of them, the least recently used forgotten first.
Anything else (a relative ``.endpoint``, a value that cannot be a key, no
request) is built as Flask builds it.
"""
from __future__ import annotations

from functools import lru_cache

from flask import Flask, has_request_context, request

#: Links each worker keeps: every server, tag and page of posts of a large site, and its newest posts.
URLS_KEPT = 8192


def init_links(app: Flask) -> None:
    """Give ``app``'s templates the ``url_for`` that keeps what it built."""

    @lru_cache(maxsize=URLS_KEPT)
    def built(root_url: str, endpoint: str, values: tuple) -> str:
        return app.url_for(endpoint, **dict(values))

    def url_for(endpoint: str, **values) -> str:
        if has_request_context() and not endpoint.startswith("."):
            try:
                key = tuple(sorted(values.items()))
                hash(key)
            except TypeError:  # a list of values, say: built each time
                return app.url_for(endpoint, **values)
            # The request itself, not its proxy: a page asks for its root a hundred times, and each
            # attribute read through the proxy costs several times the read.
            return built(request._get_current_object().root_url, endpoint, key)
        return app.url_for(endpoint, **values)

    app.jinja_env.globals["url_for"] = url_for
