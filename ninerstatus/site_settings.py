"""Settings the site keeps in its database, over the values of its configuration.

Most settings come only from the configuration (config.py, then
instance/config.py, then ``NINERSTATUS_*`` variables). A few are the site's
to change while it runs, without editing a file on the server and
restarting: where the notifiers send (set by ``ninerstatus config apply`` or
by an admin). Each of those is declared once in ``EDITABLE`` with its kind;
a value stored for it overrides the configuration's, and forgetting the
stored value brings the configuration's back.

Secret values (a mail password, a webhook secret) are stored encrypted under
the site's key, as check passwords are (see checks/secrets.py).

Outside a request, a process that asks often (the runner's notifier hooks,
at every state change) keeps the stored values for a few seconds
(``keep_stored_settings``); a change staff make reaches it within that time.

Every stored row is untrusted: a row that cannot be used (unknown name,
unreadable JSON, a value of the wrong kind, a secret no key of the site
opens) is logged and the configuration's value is used instead.
"""
from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from flask import Flask, current_app, has_request_context
from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, mapped_column

from .checks.secrets import UnreadableSecret, open_settings, seal_settings, site_cipher
from .extensions import db
from .per_request import once_per_request
from .timeutil import UTCDateTime, utcnow

log = logging.getLogger(__name__)


class Kind(str, enum.Enum):
    """What values a setting takes."""

    TEXT = "text"
    #: Text or nothing (``None``): e.g. a user name that may be left out.
    OPTIONAL_TEXT = "optional text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    TEXT_LIST = "list of text"


@dataclass(frozen=True)
class Editable:
    """A setting the site may keep in its database: its name, kind, and limits."""

    name: str
    kind: Kind
    secret: bool = False
    minimum: int | None = None
    maximum: int | None = None

    def checked(self, value: Any) -> Any:
        """``value`` as this setting stores it; ``ValueError`` says in words why it cannot be."""
        if self.kind is Kind.OPTIONAL_TEXT and (value is None or value == ""):
            return None
        if self.kind in (Kind.TEXT, Kind.OPTIONAL_TEXT):
            if not isinstance(value, str):
                raise ValueError(f"{self.name} must be text")
            return value.strip()
        if self.kind is Kind.BOOLEAN:
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false")
            return value
        if self.kind is Kind.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{self.name} must be a whole number")
            if self.minimum is not None and value < self.minimum:
                raise ValueError(f"{self.name} must be at least {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ValueError(f"{self.name} must be at most {self.maximum}")
            return value
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{self.name} must be a list of text")
        return [item.strip() for item in value if item.strip()]


#: The settings the site may keep in its database, by name.
EDITABLE: Mapping[str, Editable] = {spec.name: spec for spec in (
    Editable("NOTIFY_EMAIL_TO", Kind.TEXT_LIST),
    Editable("NOTIFY_EMAIL_FROM", Kind.TEXT),
    Editable("NOTIFY_SMTP_HOST", Kind.TEXT),
    Editable("NOTIFY_SMTP_PORT", Kind.INTEGER, minimum=1, maximum=65535),
    Editable("NOTIFY_SMTP_USERNAME", Kind.OPTIONAL_TEXT),
    Editable("NOTIFY_SMTP_PASSWORD", Kind.OPTIONAL_TEXT, secret=True),
    Editable("NOTIFY_SMTP_STARTTLS", Kind.BOOLEAN),
    Editable("NOTIFY_WEBHOOK_URLS", Kind.TEXT_LIST),
    Editable("NOTIFY_WEBHOOK_SECRET", Kind.TEXT, secret=True),
    Editable("SUBSCRIBER_MAILS_PER_MINUTE", Kind.INTEGER, minimum=1, maximum=100_000),
)}


class SiteSetting(db.Model):
    """One stored value of an ``EDITABLE`` setting (a secret as ``{"fernet": TOKEN}``)."""

    __tablename__ = "site_settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def _usable(name: str, stored: Any) -> tuple[bool, Any]:
    """Whether a stored row can be used, and its value (decrypted); logs why when it cannot."""
    spec = EDITABLE.get(name)
    if spec is None:
        log.warning("ignoring the stored setting %r: it is not one the site keeps in its database", name)
        return False, None
    try:
        value = open_settings({name: stored}, site_cipher())[name] if spec.secret else stored
        return True, spec.checked(value)
    except (UnreadableSecret, ValueError, TypeError) as error:
        log.warning("ignoring the stored setting %s, using the configuration's value: %s", name, error)
        return False, None


def stored_settings() -> dict[str, Any]:
    """Every usable stored value, by name (rows that cannot be used are logged and left out)."""
    usable = {}
    for name, stored in db.session.execute(select(SiteSetting.name, SiteSetting.value)):
        ok, value = _usable(name, stored)
        if ok:
            usable[name] = value
    return usable


#: Seconds a process that keeps the stored values (``keep_stored_settings``) uses them before reading them again.
KEPT_SECONDS = 5.0
_KEPT_KEY = "ninerstatus.kept_settings"


class KeptSettings:
    """An application's stored values, read again once they are ``seconds`` old; thread-safe."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._values: Mapping[str, Any] = MappingProxyType({})
        self._read_at = -math.inf

    def values(self) -> Mapping[str, Any]:
        """The stored values, read in the caller's session when those kept are too old (or forgotten)."""
        with self._lock:
            now = self._clock()
            # A clock that went back (a test's) reads again too.
            if not 0 <= now - self._read_at < self.seconds:
                self._values, self._read_at = MappingProxyType(stored_settings()), now
            return self._values

    def forget(self) -> None:
        """Read the stored values afresh at the next call."""
        with self._lock:
            self._read_at = -math.inf


def keep_stored_settings(app: Flask, seconds: float = KEPT_SECONDS,
                         clock: Callable[[], float] = time.monotonic) -> KeptSettings:
    """From now on, ``site_setting`` outside a request reads ``app``'s stored values at most every ``seconds``."""
    kept = app.extensions[_KEPT_KEY] = KeptSettings(seconds, clock)
    return kept


def site_setting(name: str) -> Any:
    """The value of setting ``name``: the stored one if any, else the configuration's.

    Stored values are read once per request; outside one, every time, or
    at most every few seconds where the application keeps them.
    """
    if name in EDITABLE:
        stored = _stored_now()
        if name in stored:
            value = stored[name]
            # Kept values are shared between callers: a list handed out is the caller's own.
            return list(value) if isinstance(value, list) else value
    return current_app.config[name]


def _stored_now() -> Mapping[str, Any]:
    if has_request_context():
        return once_per_request("site_settings", stored_settings)
    kept = current_app.extensions.get(_KEPT_KEY)
    return kept.values() if kept is not None else stored_settings()


def _forget_kept() -> None:
    """A value stored or forgotten in this process counts at its next read, not seconds later."""
    kept = current_app.extensions.get(_KEPT_KEY)
    if kept is not None:
        kept.forget()


def effective_settings(app: Flask) -> dict[str, Any]:
    """The application's configuration with the stored values laid over it (needs an application context)."""
    return {**app.config, **stored_settings()}


def store_setting(name: str, value: Any) -> None:
    """Keep ``value`` for ``name`` (checked, a secret encrypted); the caller commits.

    ``ValueError`` for a name the site does not keep or a value of the wrong kind.
    """
    spec = EDITABLE.get(name)
    if spec is None:
        raise ValueError(f"{name} is not a setting the site keeps in its database")
    value = spec.checked(value)
    if spec.secret:
        value = seal_settings({name: value}, {name}, site_cipher())[name]
    row = db.session.get(SiteSetting, name)
    if row is None:
        db.session.add(SiteSetting(name=name, value=value))
    else:
        row.value = value
    _forget_kept()


def forget_setting(name: str) -> None:
    """Drop the stored value of ``name``, so the configuration's applies again; the caller commits."""
    row = db.session.get(SiteSetting, name)
    if row is not None:
        db.session.delete(row)
    _forget_kept()
