"""Reading a URL staff pasted where a check's host belongs (``https://panel.example.net:8443/login``).

Staff copy addresses from browsers and mail clients, so the check form takes a
URL in its host field and fills the check in from it: host, port, TLS mode,
and the settings the URL also names (HTTP's path, a test account's user name).
What a check type reads is what it declares (``CheckType.url_schemes`` and
``url_path_setting``); the host is validated as any host is.

A user name and password in a URL (``ftp://user:secret@host``) go to the
type's ``username`` and ``password`` settings when it has them (the password
only to a setting declared secret); a type without them refuses such a URL
rather than quietly dropping a credential someone meant to use.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from .checktypes import CheckType
from .probing import InvalidTarget, TlsMode, validate_host

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
USERNAME_SETTING = "username"
PASSWORD_SETTING = "password"


class UrlError(ValueError):
    """A URL that cannot describe a check of this type; the message says why, for staff."""


@dataclass(frozen=True)
class UrlReading:
    """What a URL says about a check.

    :param host: the host, validated and normalised.
    :param port: the URL's port, or the one its scheme stands for.
    :param tls: the TLS mode the scheme means for this check type.
    :param settings: settings the URL names (path, user name, password), by setting name.
    :param left_out: parts of the URL the check does not use (a path, a fragment), as they were written.
    """

    host: str
    port: int
    tls: TlsMode
    settings: dict[str, str] = field(default_factory=dict)
    left_out: tuple[str, ...] = ()


def looks_like_url(text: str | None) -> bool:
    """True when ``text`` starts with a scheme and ``://``."""
    return bool(text) and _URL.match(text.strip()) is not None


def read_url(check_type: CheckType, text: str) -> UrlReading:
    """What the URL ``text`` says about a check of ``check_type``; ``UrlError`` when it cannot say it."""
    text = text.strip()
    scheme = text.split("://", 1)[0].lower()
    if scheme not in check_type.url_schemes:
        raise UrlError(_unread_scheme(check_type, scheme))
    try:
        parts = urlsplit(text)
    except ValueError as error:  # e.g. a bracketed host that is no IPv6 address
        raise UrlError(f"The URL cannot be read: {str(error)[:100]}.") from None
    try:
        explicit_port = parts.port
    except ValueError:
        raise UrlError("The URL's port is not a number from 1 to 65535.") from None
    if not parts.hostname:
        raise UrlError("The URL names no host.")
    try:
        host = validate_host(f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname)
    except InvalidTarget as error:
        raise UrlError(f"The URL's {error}.") from None
    if explicit_port == 0:
        raise UrlError("The URL's port is not a number from 1 to 65535.")
    settings = _credentials(check_type, parts.username, parts.password)
    left_out = []
    location = parts.path + (f"?{parts.query}" if parts.query else "")
    if check_type.url_path_setting:
        settings[check_type.url_path_setting] = location if location.startswith("/") else "/" + location
    elif location not in ("", "/"):
        left_out.append(location)
    if parts.fragment:
        left_out.append(f"#{parts.fragment}")
    scheme_port = check_type.url_schemes[scheme]
    return UrlReading(host, explicit_port or scheme_port, check_type.default_tls(scheme_port), settings,
                      tuple(left_out))


def takes_login(check_type: CheckType) -> bool:
    """True when a URL's user name and password have settings to go to: ``username``, and a secret ``password``."""
    return USERNAME_SETTING in check_type.settings and PASSWORD_SETTING in check_type.secret_names


def _unread_scheme(check_type: CheckType, scheme: str) -> str:
    if not check_type.url_schemes:
        return f"{check_type.label} checks take a host name, not a URL: give only the host, e.g. example.com."
    offered = " or ".join(f"{name}://" for name in check_type.url_schemes)
    return (f"{check_type.label} checks do not read {scheme[:20]}:// URLs: paste a URL starting with {offered}, "
            "or give only the host.")


def _credentials(check_type: CheckType, username: str | None, password: str | None) -> dict[str, str]:
    """The URL's user name and password as the type's settings; ``UrlError`` when it has nowhere to keep them."""
    if username is None and password is None:
        return {}
    if not takes_login(check_type):
        raise UrlError(f"{check_type.label} checks do not log in: remove the user name and password "
                       "(the “user:password@” part) from the URL.")
    found = {USERNAME_SETTING: unquote(username or "")}
    if password is not None:
        found[PASSWORD_SETTING] = unquote(password)
    return found
