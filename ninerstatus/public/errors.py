"""Error pages in the site's look, so a visitor never sees a bare error or a traceback."""
from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..api import is_api_path
from ..extensions import db

TITLES = {
    400: "That request did not make sense",
    404: "Page not found",
    405: "That method is not allowed here",
    413: "That upload is too large",
    500: "Something went wrong on our side",
}


def handle_http_error(error: Exception):
    """Render the error page for ``error`` with its status code."""
    if not isinstance(error, HTTPException):
        error = InternalServerError()
    code = error.code or 500
    if code >= 500:
        # The session may be in a failed transaction; start clean so the page can render.
        db.session.rollback()
    payload = {"error": {"code": code, "title": TITLES.get(code, error.name),
                         "description": error.description}}
    # The error's own headers (a 405's Allow) without its HTML Content-Type.
    headers = [(name, value) for name, value in error.get_headers() if name.lower() != "content-type"]
    # request.blueprint is None when no route matched, so the API is recognised by its address.
    if is_api_path(request.path) or request.accept_mimetypes.best == "application/json":
        return payload, code, headers
    # A broken database is the usual cause of a 500, so that page skips the sidebar.
    return render_template("error.html", with_sidebar=code < 500, **payload["error"]), code, headers
