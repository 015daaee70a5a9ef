"""Throttling per account and per client network, shared by every worker: sign-in, and the subscribe form.

Each attempt is written to ``login_attempts`` *before* its password is
checked, so parallel guesses from many workers are all counted. A successful
sign-in forgets its account's attempts; failures simply age out of the window
(and are purged as new attempts arrive), so nothing has to unlock accounts.

Settings (seconds and counts): ``LOGIN_THROTTLE_WINDOW``,
``LOGIN_MAX_ATTEMPTS_PER_ACCOUNT`` and ``LOGIN_MAX_ATTEMPTS_PER_ADDRESS``.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import LoginAttempt
from ..timeutil import utcnow

DEFAULTS = {
    "LOGIN_THROTTLE_WINDOW": 15 * 60,
    "LOGIN_MAX_ATTEMPTS_PER_ACCOUNT": 5,
    # Higher: a whole office may share one address.
    "LOGIN_MAX_ATTEMPTS_PER_ADDRESS": 20,
}


def init_throttle(app: Flask) -> None:
    """Give ``app`` the throttle's default settings where it has none."""
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)


def client_network(address: str | None) -> str:
    """The unit an address is counted in: itself for IPv4, its /64 for IPv6.

    One IPv6 customer usually holds a whole /64, so counting single addresses
    would let them try 2**64 times.
    """
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return (address or "unknown")[:64]
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in attempt was not even checked, and when to try again."""

    retry_after: int

    @property
    def minutes(self) -> int:
        """Whole minutes to wait, rounded up."""
        return max(1, -(-self.retry_after // 60))


@dataclass(frozen=True)
class Throttle:
    """Attempts counted per account and per client network in ``model``'s table, within a window.

    ``model`` has ``account``, ``address`` and ``attempted_at`` columns; the
    window and the two limits are read from the settings named here, so the
    sign-in page and the visitors' subscribe form each count in their own
    table with their own limits.
    """

    model: type
    window_key: str
    per_account_key: str
    per_address_key: str

    def _count(self, column, value: str, since: datetime) -> int:
        return db.session.scalar(select(func.count()).where(column == value, self.model.attempted_at >= since))

    def begin(self, account: str, address: str) -> Refusal | None:
        """Count an attempt; return a Refusal when the account or network has had too many.

        A refused attempt is not kept, so someone hammering a locked account does
        not keep it locked beyond the window.
        """
        config, model = current_app.config, self.model
        now = utcnow()
        window = timedelta(seconds=config[self.window_key])
        since = now - window
        db.session.execute(delete(model).where(model.attempted_at < since))
        attempt = model(account=account[:254], address=address, attempted_at=now)
        db.session.add(attempt)
        db.session.commit()
        too_many = (self._count(model.account, attempt.account, since) > config[self.per_account_key]
                    or self._count(model.address, address, since) > config[self.per_address_key])
        if not too_many:
            return None
        db.session.delete(attempt)
        db.session.commit()
        oldest = db.session.scalar(select(func.min(model.attempted_at)).where(
            (model.account == attempt.account) | (model.address == address), model.attempted_at >= since))
        return Refusal(retry_after=int(((oldest or now) + window - now).total_seconds()) + 1)

    def forget(self, account: str) -> None:
        """Clear an account's attempts (after it signed in successfully, say)."""
        db.session.execute(delete(self.model).where(self.model.account == account[:254]))
        db.session.commit()


SIGN_IN = Throttle(LoginAttempt, "LOGIN_THROTTLE_WINDOW", "LOGIN_MAX_ATTEMPTS_PER_ACCOUNT",
                   "LOGIN_MAX_ATTEMPTS_PER_ADDRESS")


def begin_attempt(account: str, address: str) -> Refusal | None:
    """Count a sign-in attempt; return a Refusal when the account or network has had too many."""
    return SIGN_IN.begin(account, address)


def forget_account(account: str) -> None:
    """Clear an account's attempts after it signed in successfully."""
    SIGN_IN.forget(account)
