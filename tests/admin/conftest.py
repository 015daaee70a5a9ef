"""Fixtures for the staff side: staff accounts and ``auth``, a signed-in client helper.

CSRF protection stays on in these tests, as in production: every form is
sent with the token scraped from a page, the way a browser sends it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ninerstatus.extensions import db
from ninerstatus.models import PASSWORD_METHOD, Role, User

PASSWORD = "correct horse battery staple"
ADMIN_EMAIL = "admin@example.net"
EDITOR_EMAIL = "editor@example.net"
# Hashed once per run: each scrypt hash costs a tenth of a second.
PASSWORD_HASH = generate_password_hash(PASSWORD, method=PASSWORD_METHOD)

_TOKEN_RE = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


def csrf_token_in(html: str) -> str:
    """The CSRF token of the first form in ``html``."""
    match = _TOKEN_RE.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def add_user(email: str, role: Role, name: str = "") -> User:
    """Add an active staff account whose password is PASSWORD."""
    user = User(email=email, name=name, role=role, password_hash=PASSWORD_HASH)
    db.session.add(user)
    db.session.commit()
    return user


def find_user(email: str) -> User:
    """The account with ``email``, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == email))


@pytest.fixture
def app_config():
    """Staff tests load the test plugin folder, so check pages have a check type to work with."""
    return {"PLUGINS_FOLDER": str(Path(__file__).parent.parent / "local_plugins")}


@pytest.fixture
def staff(app):
    """An admin (Ann) and an editor (Ed), both with the password PASSWORD."""
    with app.app_context():
        add_user(ADMIN_EMAIL, Role.ADMIN, "Ann Admin")
        add_user(EDITOR_EMAIL, Role.EDITOR, "Ed Editor")


@dataclass
class AuthActions:
    """Sign a test client in and out, and send forms with a valid CSRF token."""

    client: object

    def token(self, path: str | None = None) -> str:
        """A valid CSRF token for this client, read from a form page."""
        with self.client.session_transaction() as session:
            signed_in = "_user_id" in session
        response = self.client.get(path or ("/admin/password" if signed_in else "/admin/login"),
                                   follow_redirects=True)
        return csrf_token_in(response.get_data(as_text=True))

    def login(self, email: str = ADMIN_EMAIL, password: str = PASSWORD, *, remember: bool = False,
              next: str | None = None, **environ):
        """Fill in and send the sign-in form."""
        data = {"email": email, "password": password, "csrf_token": self.token("/admin/login")}
        if remember:
            data["remember"] = "y"
        url = "/admin/login" + (f"?next={next}" if next is not None else "")
        return self.client.post(url, data=data, **environ)

    def login_editor(self):
        """Sign in as the editor."""
        return self.login(EDITOR_EMAIL)

    def logout(self):
        """Press the sign-out button."""
        return self.client.post("/admin/logout", data={"csrf_token": self.token()})

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST ``data`` to ``path`` with a valid CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.token()}, **kwargs)


@pytest.fixture
def auth(client, staff):
    """Sign-in helper for ``client`` (the staff accounts exist)."""
    return AuthActions(client)
