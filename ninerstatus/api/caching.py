"""A few seconds of memory for the API's documents: worked out once per moment, not once per client.

A document depends on the database and on the clock (a check turns stale, a
maintenance window opens), so there is nothing to invalidate it on: each one
is simply kept for ``API_CACHE_SECONDS`` (default 5, far under a probe
interval) in each worker process. Browsers and proxies add the HTTP layer on
top (ETag, ``max-age=30``).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from time import monotonic

from flask import current_app, request

EXTENSION_KEY = "ninerstatus.api_cache"
#: Documents kept at most; the Host header is part of the key, so it must not grow without bound.
MAX_ENTRIES = 64


def remembered(view: Callable) -> Callable:
    """Serve the view's JSON from memory for ``API_CACHE_SECONDS`` after it was last worked out."""
    @wraps(view)
    def cached(**kwargs):
        seconds = current_app.config["API_CACHE_SECONDS"]
        if not seconds:
            return view(**kwargs)
        store = current_app.extensions.setdefault(EXTENSION_KEY, {})
        # Not the query string: any number of made-up ones would all be the same document.
        key = (request.host, request.path)
        now = monotonic()
        kept = store.get(key)
        if kept is not None and kept[0] > now:
            return current_app.response_class(kept[1], mimetype="application/json")
        response = current_app.make_response(view(**kwargs))
        if response.status_code == 200:
            if len(store) >= MAX_ENTRIES:
                store.clear()
            store[key] = (now + seconds, response.get_data())
        return response
    return cached
