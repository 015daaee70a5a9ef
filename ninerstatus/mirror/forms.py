"""Forms on mirror pages that nothing can answer, found as each page is written.

A static copy cannot answer a form: templates send a form that needs the
server to the live site with ``form_action`` (see ``templating.py``), or
draw a note instead. A form added without it would post to the mirror's own
host, which answers a POST with 405 and a search with a page that ignores
it; the export finds such forms here and says which pages carry them, so the
template can be fixed before a visitor meets one.
"""
from __future__ import annotations

from html.parser import HTMLParser


class _FormActions(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.actions: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "form":
            self.actions.append(dict(attrs).get("action") or "")


def unanswerable_forms(page: bytes, live_url: str) -> list[str]:
    """The actions of ``page``'s forms that do not go to the live site (``live_url``; none do when it is "")."""
    parser = _FormActions()
    parser.feed(page.decode("utf-8", "replace"))
    parser.close()
    return [action for action in parser.actions if not (live_url and action.startswith(live_url + "/"))]
