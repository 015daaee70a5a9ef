"""Refused and expired requests on the staff side, answered so nobody loses what they typed.

A form whose CSRF token is missing, wrong or expired (the page sat open too
long, or the session was renewed in another tab) is not saved. Views marked
``@redisplays_form`` are run again instead: their form fails validation on the
token, so they show the form with everything typed still in it, a fresh token
and a message saying nothing was saved. The same views show their form again
when the database is too busy to save it (see contention.py).
"""
from __future__ import annotations

from typing import Callable

from flask import current_app, g, make_response, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..accounts.sessions import wants_json
from ..public.errors import handle_http_error
from . import bp
from .contention import retries_lost_races


def redisplays_form(view: Callable) -> Callable:
    """Mark a form view as safe to run again, unsaved, when its token is refused or the database is busy.

    The view is also run again when its save lost a race (see contention.py).
    """
    view = retries_lost_races(view)
    view.redisplays_form = True
    return view


def form_expired() -> bool:
    """True while a form view is being run again after its token was refused."""
    return g.get("form_expired", False)


@bp.errorhandler(CSRFError)
def refused_token(error: CSRFError):
    """Show the form again with its input kept, or explain why nothing was done."""
    if wants_json():
        return {"error": "Not saved: this page's form has expired. Save with the buttons instead."}, 400
    view = current_app.view_functions.get(request.endpoint)
    # The sign-in check has not run yet (CSRF is checked first), so it is made here.
    signed_in = current_user.is_authenticated or request.endpoint == "admin.sign_in"
    if getattr(view, "redisplays_form", False) and signed_in:
        g.form_expired = True
        try:
            response = make_response(view(**(request.view_args or {})))
        except HTTPException as refusal:
            # The view refused on its own grounds (403, 404...): that answer stands.
            return handle_http_error(refusal)
        response.status_code = 400
        return response
    error.description = ("This form had expired or came from another page, so nothing was done. "
                         "Go back, reload the page and try again.")
    return handle_http_error(error)


for code in (401, 403, 429):
    bp.register_error_handler(code, handle_http_error)


@bp.context_processor
def expiry_context() -> dict:
    """Let staff templates say when a form came back because its token was refused."""
    return {"form_expired": form_expired()}
