"""Markup drawn once per worker for the same input: what a template gave, not the data it was given.

A page draws a hundred check widgets and ten 90-day strips, and the same
input always draws the same markup, so each worker remembers the markup of
the latest distinct inputs of each template. The input is read afresh from
the database for every page; only the drawing is skipped when it comes out
as before. Each template's memory is a ``functools.lru_cache`` (thread-safe:
two threads drawing the same new input each draw it, and one is kept).
"""
from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import TypeVar

from flask import Flask, current_app
from markupsafe import Markup

EXTENSION_KEY = "ninerstatus.drawn_once"

H = TypeVar("H", bound=Hashable)


def drawn_once(name: str, draw: Callable[[Flask, H], Markup], given: H, *, kept: int) -> Markup:
    """``draw(app, given)``, or what it gave for an equal ``given`` earlier (of the latest ``kept`` under ``name``)."""
    app = current_app._get_current_object()
    memories = app.extensions.setdefault(EXTENSION_KEY, {})
    remembered = memories.get(name)
    if remembered is None:
        remembered = memories.setdefault(name, lru_cache(maxsize=kept)(lambda value: draw(app, value)))
    return remembered(given)
