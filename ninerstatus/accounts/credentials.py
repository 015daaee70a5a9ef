"""Checking an e-mail address and password so that an unknown account looks like a wrong password.

Both cost one password hash check: an attacker timing the answer learns
nothing about which addresses have accounts.
"""
from __future__ import annotations

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from ..extensions import db
from ..models import User

# The hash of a random password nobody knows, made with the same method and
# cost as real ones (models.PASSWORD_METHOD; a test keeps the two in step).
# Unknown addresses are checked against it so they take as long as known ones.
DUMMY_PASSWORD_HASH = (
    "scrypt:32768:8:1$g1DjRqd7dlFmDwHj$1077c865a549306bbcd8ee4bacec15742c699723ecf42f2ac1fcab6ffd798a2"
    "895c161b44d96c241b634be4c19df44a6fa910570365b4e70c0c6c0d9e22a9cfa"
)


def normalise_email(email: str) -> str:
    """The form of an address used to find accounts and count attempts."""
    return email.strip().lower()


def find_account(email: str) -> User | None:
    """The account with ``email``, compared without regard to case."""
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def verify_credentials(email: str, password: str) -> User | None:
    """Return the active account ``email`` when ``password`` is its password, else None."""
    user = find_account(email)
    matches = check_password_hash(user.password_hash if user else DUMMY_PASSWORD_HASH, password)
    if user is None or not matches or not user.is_active:
        return None
    return user
