"""What templates use to draw a page for the static mirror: ``static_mirror``, ``page_url`` and ``form_action``.

On the live site ``static_mirror`` is None and both helpers are ``url_for``.
In a page drawn for the mirror (see ``rendering.py``):

- ``static_mirror`` is the ``MirrorRendering`` (when it was drawn, where the
  live site is), for the banner and the search form;
- ``page_url`` links a list's other pages to the mirror's files for them
  (``/tags/mail/page/2/`` instead of ``/tags/mail?page=2``);
- ``form_action`` gives a form that needs the server (search, and any form
  that posts) its address on the live site, or None when ``SITE_URL`` is not
  set: the template then says the form needs the live site instead of
  drawing it. A static copy cannot answer a form, and a form posting to the
  mirror's host would only meet a 405.
"""
from __future__ import annotations

from flask import Flask, has_request_context, request, url_for

from .layout import mirror_page_url
from .rendering import ENVIRON_KEY, MirrorRendering


def current_mirror() -> MirrorRendering | None:
    """The mirror rendering this request draws, or None on the live site."""
    return request.environ.get(ENVIRON_KEY) if has_request_context() else None


def page_url(endpoint: str, number: int, **values) -> str:
    """The address of page ``number`` of the list at ``endpoint``: ``?page=`` live, a file of its own in the mirror."""
    if current_mirror() is None:
        return url_for(endpoint, page=number, **values)
    return mirror_page_url(url_for(endpoint, **values), number)


def form_action(endpoint: str, **values) -> str | None:
    """Where a form that needs the server sends its answers: here live, the live site from the mirror (or None)."""
    mirror = current_mirror()
    if mirror is None:
        return url_for(endpoint, **values)
    path = url_for(endpoint, **values)
    return mirror.live(path[len(request.script_root):])


def mirror_context() -> dict:
    """Context processor: ``static_mirror`` for every template."""
    return {"static_mirror": current_mirror()}


def init_mirror_templating(app: Flask) -> None:
    """Give templates ``static_mirror``, and every template and macro ``page_url`` and ``form_action``.

    Globals, not context, for the helpers: the pager is a macro imported without the page's context.
    """
    app.context_processor(mirror_context)
    app.add_template_global(page_url)
    app.add_template_global(form_action)
