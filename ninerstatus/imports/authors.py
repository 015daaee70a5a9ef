"""WordPress authors as staff accounts: found by e-mail address, or created disabled without a password.

An export lists its authors (login, e-mail, display name) before its posts,
and each post names its author by login. An author whose address has no
account here gets one: an editor account that is disabled and has no
password, so it can sign nobody in until an admin gives it both. With
``--author EMAIL`` every post goes to that one existing account instead.
"""
from __future__ import annotations

from ..accounts.credentials import find_account, normalise_email
from ..extensions import db
from ..models import Role, User
from .summary import ImportSummary
from .wxr import WxrAuthor

#: Stored instead of a password hash: no password ever matches it (werkzeug reads it as no hash at all).
NO_PASSWORD = "!"
_MAX_EMAIL = 254


def plausible_email(email: str) -> bool:
    """True for something shaped like an address: one @, text on both sides, no spaces, not too long."""
    local, at, domain = email.partition("@")
    return bool(at and local and "." in domain and "@" not in domain and len(email) <= _MAX_EMAIL
                and not any(c.isspace() for c in email))


class AuthorMap:
    """The account each WordPress login's posts go to; one per import.

    :param fixed: the account every post goes to (``--author``), or None to map by e-mail.
    """

    def __init__(self, summary: ImportSummary, fixed: User | None = None) -> None:
        self.summary = summary
        self.fixed = fixed
        self._authors: dict[str, WxrAuthor] = {}
        self._accounts: dict[str, User | None] = {}

    def add(self, author: WxrAuthor) -> None:
        """Remember an author listed in the export."""
        self._authors[author.login] = author

    def accounts(self) -> list[User]:
        """Every account posts went to so far."""
        found = [user for user in self._accounts.values() if user is not None]
        return found + [self.fixed] if self.fixed is not None else found

    def account_for(self, login: str) -> User | None:
        """The account for posts by ``login``, created when needed; None (with a warning) when there is no address."""
        if self.fixed is not None:
            return self.fixed
        if login not in self._accounts:
            self._accounts[login] = self._find_or_create(login)
        return self._accounts[login]

    def _find_or_create(self, login: str) -> User | None:
        author = self._authors.get(login)
        email = normalise_email(author.email) if author else ""
        if not plausible_email(email):
            self.summary.warn(f"The author {login or '(none)'} has no usable e-mail address in the export; "
                              "their posts have no author (use --author to give them one).")
            return None
        user = find_account(email)
        if user is None:
            user = User(email=email, name=" ".join(author.display_name.split())[:120], role=Role.EDITOR,
                        is_active=False, password_hash=NO_PASSWORD)
            db.session.add(user)
            self.summary.accounts_created.append(email)
        return user
