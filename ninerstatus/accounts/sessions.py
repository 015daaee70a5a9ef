"""Staff sessions with Flask-Login: renewed at sign-in, revoked everywhere at sign-out.

A session and a remember-me cookie both carry ``User.get_id()``, which is the
account id *and* its session version. Every request checks that version
against the database, so bumping it (sign-out, password change, an admin
disabling the account) ends every session of that account on every device.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, redirect, request, session, url_for
from flask_login import login_user, logout_user

from ..extensions import db, login_manager
from ..models import User
from ..timeutil import utcnow


def init_sessions(app: Flask) -> None:
    """Bind Flask-Login to ``app`` with the loader that checks session versions."""
    # A month, not Flask-Login's year: a lost laptop should not stay signed in for long.
    app.config.setdefault("REMEMBER_COOKIE_DURATION", timedelta(days=30))
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(ask_to_sign_in)


def load_user(identity: str) -> User | None:
    """Return the account of a session or cookie, unless its session was revoked since."""
    user_id, _, version = identity.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def wants_json() -> bool:
    """True when the client asked for JSON (the editor's autosave does)."""
    return request.accept_mimetypes.best == "application/json"


def ask_to_sign_in():
    """Answer a request that needs a signed-in account and has none."""
    if wants_json():
        return {"error": "Your session has ended: sign in again in another tab, then save."}, 401
    # Only a page can be returned to: a form sent without a session has nothing to go back to.
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("admin.sign_in", next=target))


def sign_in(user: User, remember: bool = False) -> None:
    """Start a brand-new session for ``user``; nothing from the session before survives."""
    session.clear()
    login_user(user, remember=remember)
    user.last_login_at = utcnow()
    db.session.commit()


def revoke_sessions(user: User) -> None:
    """End every session and remember-me cookie ``user`` has, on every device."""
    # Incremented in SQL so two revocations at once cannot both write the same value.
    user.session_version = User.session_version + 1
    db.session.commit()
    db.session.refresh(user)


def sign_out(user: User) -> None:
    """Sign ``user`` out here and everywhere else."""
    revoke_sessions(user)
    session.clear()
    # After the clear, so the instruction to delete the remember-me cookie is kept.
    logout_user()


def has_remember_cookie() -> bool:
    """True when this browser holds a remember-me cookie."""
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
