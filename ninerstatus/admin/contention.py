"""Saving while others write: a lost race is run again, a busy database keeps what was typed.

Staff save while other staff and the probe runner write to the same database,
so two refusals are normal and neither may end in an error page:

- a lost race for a unique value (eight editors give new posts the same title
  at once, two admins add server NC050 together): the database refuses all
  but the first. The save is run again in a fresh transaction, where it sees
  the winner's row and does what it would have done a moment later: take the
  next free address, or say on the form that the code is taken.
- a busy database (SQLite's write lock held past its busy timeout, a
  PostgreSQL lock timeout, deadlock or serialization failure): nothing is
  saved, and a form is shown again with everything typed, a message and
  status 503, so pressing the button again is all it takes.

Views that save are wrapped with ``@retries_lost_races`` (every form view gets
it through ``@redisplays_form``). A busy database met anywhere else on the
staff side (a button without a form) answers 503 saying nothing was done, and
the editor's autosave gets that in JSON.
"""
from __future__ import annotations

import functools
import logging
import sqlite3
from typing import Callable

from flask import current_app, g, make_response, request
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from ..accounts.sessions import wants_json
from ..extensions import db
from ..public.errors import handle_http_error
from . import bp

log = logging.getLogger(__name__)

# Each lost race means another save of the same value went through, so eight
# staff racing need at most seven more runs; the rest is headroom.
MAX_RUNS = 12

# PostgreSQL: serialization_failure, deadlock_detected, lock_not_available
# (lock_timeout), query_canceled (statement_timeout).
BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})
UNIQUE_SQLSTATE = "23505"
BUSY_SQLITE_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
UNIQUE_SQLITE_CODES = frozenset({sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY})

NOTHING_DONE = "The database was busy, so nothing was done. Go back and try again in a moment."
# The editor's autosave is the one staff client that asks for JSON.
AUTOSAVE_BUSY = "Not saved: the database was busy. Your next change saves it again, or press a button to save."


class DatabaseBusy(ServiceUnavailable):
    """A save refused because the database was busy, raised from inside the view that tried it."""

    description = NOTHING_DONE


def _sqlstate(error: DBAPIError) -> str | None:
    # psycopg 3 names it sqlstate, psycopg2 pgcode.
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


def _sqlite_code(error: DBAPIError) -> int | None:
    # The extended code: SQLITE_CONSTRAINT_UNIQUE, SQLITE_BUSY_SNAPSHOT...
    return getattr(error.orig, "sqlite_errorcode", None)


def lost_race(error: DBAPIError) -> bool:
    """True when ``error`` is a unique value that another transaction took first."""
    return isinstance(error, IntegrityError) and (
        _sqlstate(error) == UNIQUE_SQLSTATE or _sqlite_code(error) in UNIQUE_SQLITE_CODES)


def database_busy(error: DBAPIError) -> bool:
    """True when ``error`` says the database was too busy to do the work, not that the work was wrong."""
    code = _sqlite_code(error)
    # An extended code keeps its primary code (SQLITE_BUSY, SQLITE_LOCKED) in the low byte.
    return isinstance(error, OperationalError) and (
        _sqlstate(error) in BUSY_SQLSTATES or (code is not None and (code & 0xFF) in BUSY_SQLITE_CODES))


def database_was_busy() -> bool:
    """True while a form view runs again, unsaved, to show its form after a busy database refused it."""
    return g.get("database_busy", False)


def retries_lost_races(view: Callable) -> Callable:
    """Run ``view`` again in a fresh transaction when it lost a race; a busy database raises DatabaseBusy."""
    @functools.wraps(view)
    def run(*args, **kwargs):
        for _ in range(MAX_RUNS):
            try:
                return view(*args, **kwargs)
            except DBAPIError as error:
                db.session.rollback()
                if database_busy(error):
                    raise DatabaseBusy() from error
                if not lost_race(error):
                    raise
                lost = error
        # Not a race any more: the view itself stores something the database refuses.
        log.error("%s lost the race for a unique value %d times in a row; answering busy",
                  request.endpoint, MAX_RUNS, exc_info=lost)
        raise DatabaseBusy() from lost
    return run


@bp.errorhandler(DatabaseBusy)
def show_form_again(error: DatabaseBusy):
    """Show a form view's form again, unsaved and as typed, with status 503; elsewhere say nothing was done."""
    view = current_app.view_functions.get(request.endpoint)
    if wants_json() or not getattr(view, "redisplays_form", False):
        return _nothing_done(error)
    g.database_busy = True
    try:
        response = make_response(view(**(request.view_args or {})))
    except DatabaseBusy as again:
        # Too busy even to show the form: the plain answer is all that is left.
        return _nothing_done(again)
    except HTTPException as refusal:
        # The view refused on its own grounds this time (the post was deleted meanwhile): that answer stands.
        return handle_http_error(refusal)
    response.status_code = 503
    return response


@bp.errorhandler(OperationalError)
def busy_elsewhere(error: OperationalError):
    """Answer 503 for a busy database met outside a saving view; any other database fault stays a 500."""
    if not database_busy(error):
        raise error
    return _nothing_done(DatabaseBusy())


def _nothing_done(error: DatabaseBusy):
    db.session.rollback()
    if wants_json():
        return {"error": AUTOSAVE_BUSY}, 503
    return handle_http_error(error)


@bp.context_processor
def busy_context() -> dict:
    """Let staff templates say that the form came back because the database was busy."""
    return {"database_busy": database_was_busy()}
