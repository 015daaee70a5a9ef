"""Staff accounts for tests: one password for all, hashed once, and helpers to add and find them.

Shared by the test-client fixtures here and the browser tests.
"""
from __future__ import annotations

import re

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
