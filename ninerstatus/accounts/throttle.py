"""Sign-in throttling per account and per client network, shared by every worker.

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


def _count(column, value: str, since: datetime) -> int:
    return db.session.scalar(select(func.count()).where(column == value, LoginAttempt.attempted_at >= since))


def begin_attempt(account: str, address: str) -> Refusal | None:
    """Count a sign-in attempt; return a Refusal when the account or network has had too many.

    A refused attempt is not kept, so someone hammering a locked account does
    not keep it locked beyond the window.
    """
    config = current_app.config
    now = utcnow()
    window = timedelta(seconds=config["LOGIN_THROTTLE_WINDOW"])
    since = now - window
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < since))
    attempt = LoginAttempt(account=account[:254], address=address, attempted_at=now)
    db.session.add(attempt)
    db.session.commit()
    too_many = (_count(LoginAttempt.account, attempt.account, since) > config["LOGIN_MAX_ATTEMPTS_PER_ACCOUNT"]
                or _count(LoginAttempt.address, address, since) > config["LOGIN_MAX_ATTEMPTS_PER_ADDRESS"])
    if not too_many:
        return None
    db.session.delete(attempt)
    db.session.commit()
    oldest = db.session.scalar(select(func.min(LoginAttempt.attempted_at)).where(
        (LoginAttempt.account == attempt.account) | (LoginAttempt.address == address),
        LoginAttempt.attempted_at >= since))
    return Refusal(retry_after=int(((oldest or now) + window - now).total_seconds()) + 1)


def forget_account(account: str) -> None:
    """Clear an account's attempts after it signed in successfully."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.account == account[:254]))
    db.session.commit()
