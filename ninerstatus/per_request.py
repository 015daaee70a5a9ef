"""Values worked out at most once per request, however many parts of a page or document ask for them."""
from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import g, has_request_context, request

T = TypeVar("T")


def once_per_request(key: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept in ``g`` under ``key`` for the rest of the current request; always afresh outside one.

    The value is tied to the request object too: an application context can
    outlive a request (a test's, or a CLI command's), and the next request
    in it must not be told what the previous one saw.
    """
    if not has_request_context():
        return compute()
    current = request._get_current_object()
    kept = g.get(key)
    if kept is None or kept[0] is not current:
        kept = (current, compute())
        setattr(g, key, kept)
    return kept[1]
