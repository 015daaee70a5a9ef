"""What the site takes from a request before any view sees it: a body within the size limit, and
text without characters that cannot be typed.

- A body over ``MAX_CONTENT_LENGTH`` is refused with 413 however it is
  sent (a view marked ``@takes_bodies_up_to(setting)``, the image upload,
  has the limit that setting names instead). With a ``Content-Length`` the
  form parser refuses it; a chunked body has none, and the parser used to
  read it up to the limit and quietly drop the rest, so a post cut short
  was saved. ``BodyWithinLimit`` reads such a body first and gives it its
  length, so both arrive the same way.
- Form fields lose the control characters no one can type (a NUL above all:
  PostgreSQL refuses it, and SQLite would store it and send it out raw), and
  bytes that are not UTF-8 are read as U+FFFD instead of losing the whole
  form. Staff are told either way, on the page they see next, and keep
  everything else they typed.
- Query strings lose the same characters (a search with a NUL inside looks
  for the words around it); a NUL or another control character in an
  address's path finds no page (404).
"""
from __future__ import annotations

import re
from io import BytesIO
from typing import Callable
from urllib.parse import parse_qsl

from flask import Flask, abort, current_app, flash, request
from flask.wrappers import Request
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.utils import cached_property

from .markup import strip_control_chars

_PATH_CONTROL = re.compile("[\x00-\x1f\x7f]")
#: What staff are told when their form was cleaned, by what was found.
CONTROL_NOTE = ("Characters that cannot be typed (such as NUL) were removed from what you sent; "
                "everything else is kept as you typed it.")
UNDECODABLE_NOTE = ("Part of what you sent was not readable text (not UTF-8) and shows as "
                    "“\N{REPLACEMENT CHARACTER}”; check those places.")


def init_intake(app: Flask) -> None:
    """Install the checks above on ``app``."""
    app.request_class = CleanFormRequest
    limit = app.config["MAX_CONTENT_LENGTH"]
    # A chunked body is read up to the larger limit: images added to posts have their own (admin/uploads.py).
    app.wsgi_app = BodyWithinLimit(app.wsgi_app,
                                   limit if limit is None else max(limit, app.config["UPLOAD_MAX_BYTES"]))
    app.before_request(refuse_control_characters_in_path)
    app.before_request(tell_what_was_cleaned)


class BodyWithinLimit:
    """WSGI middleware: read a body sent without ``Content-Length`` (chunked) and give it its length.

    At most ``limit`` + 1 bytes are read: a longer body reaches the app
    empty, with a length over the limit, so the usual 413 answers it.
    """

    def __init__(self, wsgi_app, limit: int | None) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        # Servers that end such a body themselves say so with wsgi.input_terminated; from any
        # other server there is nothing that can be read safely, and Werkzeug reads nothing.
        if (self.limit is not None and not environ.get("CONTENT_LENGTH")
                and environ.get("wsgi.input_terminated") and environ.get("REQUEST_METHOD") not in ("GET", "HEAD")):
            body = _read_up_to(environ["wsgi.input"], self.limit + 1)
            kept = body if len(body) <= self.limit else b""
            environ = {**environ, "CONTENT_LENGTH": str(len(body)), "wsgi.input": BytesIO(kept)}
            # Werkzeug takes no length from a request that says it is chunked.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


def _read_up_to(stream, size: int) -> bytes:
    chunks, left = [], size
    while left > 0:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def takes_bodies_up_to(setting: str) -> Callable[[Callable], Callable]:
    """Mark a view that takes request bodies up to the limit in ``setting`` instead of ``MAX_CONTENT_LENGTH``."""
    def mark(view: Callable) -> Callable:
        view.body_limit_setting = setting
        return view
    return mark


class LenientFormParser(FormDataParser):
    """A form parser that reads a URL-encoded body that is not UTF-8 with U+FFFD in place of the bad bytes.

    Werkzeug's own drops the whole form then, CSRF token included, so the
    page says the form expired and everything typed is lost.
    """

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        raw = stream.read()
        try:
            items = parse_qsl(raw.decode(), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:  # raw bytes, or %-escapes of bytes, that are not UTF-8
            items = parse_qsl(raw.decode(errors="replace"), keep_blank_values=True, errors="replace")
        return stream, self.cls(items), self.cls()


class CleanFormRequest(Request):
    """The site's request: query and form fields without control characters, and notes on what was cleaned."""

    form_data_parser_class = LenientFormParser

    @cached_property
    def args(self) -> MultiDict:
        """The query string's fields, cleaned like the form's (nothing to tell: a query is not typed into a form)."""
        return clean_fields(super().args)[0]

    @Request.max_content_length.getter
    def max_content_length(self) -> int | None:
        """The body limit of this request: set on it, marked on its view (``takes_bodies_up_to``), or the site's."""
        view = current_app.view_functions.get(self.endpoint) if self.endpoint else None
        setting = getattr(view, "body_limit_setting", None)
        if self._max_content_length is None and setting is not None:
            return current_app.config[setting]
        return Request.max_content_length.fget(self)

    def _load_form_data(self) -> None:
        super()._load_form_data()
        cleaned, self.form_notes = clean_fields(self.form)
        # Replaces what the parser stored, the way the parser itself stores it.
        self.__dict__["form"] = cleaned


def clean_fields(form: MultiDict) -> tuple[MultiDict, list[str]]:
    """``form`` without control characters in names and values, and a note for each kind of repair."""
    notes = []
    items = [(name, value) for name, value in form.items(multi=True)]
    cleaned = [(strip_control_chars(name), strip_control_chars(value)) for name, value in items]
    if cleaned != items:
        notes.append(CONTROL_NOTE)
    # Also said when someone typed U+FFFD themselves: rare, and the note is only a prompt to look.
    if any("\N{REPLACEMENT CHARACTER}" in value for _, value in cleaned):
        notes.append(UNDECODABLE_NOTE)
    return type(form)(cleaned), notes


def refuse_control_characters_in_path() -> None:
    """Before every request: no page has a control character in its address."""
    if _PATH_CONTROL.search(request.path):
        abort(404, description="There is no page at this address: it contains a character that cannot be typed.")


def tell_what_was_cleaned() -> None:
    """Before every request that sent a form: tell staff what was taken out of it or could not be read."""
    if request.method in ("GET", "HEAD") or request.accept_mimetypes.best == "application/json":
        return  # nothing to read, or no page to read a note on (the editor's autosave)
    request.form  # noqa: B018  (parses the form, if nothing did yet, so its notes are known; 413 if too large)
    for note in getattr(request, "form_notes", ()):
        flash(note)
