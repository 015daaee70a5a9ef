"""The default check widget: what it shows of a check at one moment, and its markup drawn once per worker per face.

A page shows a widget for every public check, and drawing a hundred of them
from their template was a fifth of an uncached page. Everything the widget's
markup depends on is worked out here into a ``WidgetFace``: the same face
always draws the same markup (``drawn_once``), so each worker draws a
check's widget again only when something it shows changed, its "checked
20 s ago" included. The face itself is worked out afresh for every page.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from markupsafe import Markup

from ..drawn_once import drawn_once
from .listing import ListedCheck
from .status import check_state, latency_ms, short_time, time_ago

#: Distinct faces each worker remembers the markup of: several for every check of a large site.
FACES_KEPT = 4096


@dataclass(frozen=True)
class WidgetFace:
    """What the default widget shows of one check: its name, state, since when, latency, age and key fact."""

    title: str
    css: str
    label: str
    # "since 14:02 UTC" for a fresh state that is news (None otherwise), and that time as shown.
    since: datetime | None
    since_text: str
    fresh: bool
    # Only for a fresh check: the latest probe's time, when it was taken and how long ago that is.
    latency: str | None
    checked_at: datetime | None
    checked_ago: str
    fact: str
    # For a stale check: the time of its latest result, and that time as shown.
    stale_since: datetime | None
    stale_text: str


def widget_face(check: ListedCheck) -> WidgetFace:
    """What the default widget of ``check`` shows now."""
    shown = check_state(check)
    fresh = shown.fresh
    return WidgetFace(
        title=check.title, css=shown.css, label=shown.status.label,
        since=shown.says_since, since_text=short_time(shown.says_since) if shown.says_since else "",
        fresh=fresh, latency=latency_ms(check) if fresh else None,
        checked_at=check.last_checked_at if fresh else None,
        checked_ago=time_ago(check.last_checked_at) if fresh else "",
        fact=shown.fact, stale_since=shown.stale_since,
        stale_text=short_time(shown.stale_since) if shown.stale_since else "")


def _draw(app: Flask, face: WidgetFace) -> Markup:
    return Markup(app.jinja_env.get_template("checks/_widgets.html").module.widget_of(face))


def drawn_widget(check: ListedCheck) -> Markup:
    """The default widget of ``check`` as it stands now."""
    return drawn_once("checks/widget", _draw, widget_face(check), kept=FACES_KEPT)
