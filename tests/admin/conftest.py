"""Fixtures for the staff side: staff accounts and ``auth``, a signed-in client helper.

CSRF protection stays on in these tests, as in production: every form is
sent with the token scraped from a page, the way a browser sends it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ninerstatus.models import Role

from .accounts import ADMIN_EMAIL, EDITOR_EMAIL, PASSWORD, add_user, csrf_token_in


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
