"""Check settings that hold secrets (passwords, tokens), encrypted at rest.

A secret setting is stored in the ``checks`` table as ``{"fernet": TOKEN}``
instead of its text: Fernet (AES-128-CBC with an HMAC-SHA256, from
``cryptography``) under a key derived with HKDF-SHA256 from the site's
``SECRET_KEY`` and a label naming this one use, so the key that signs session
cookies is never used as is. Anyone who reads the table (a backup, a
replica, a support dump) sees tokens; reading them needs the secret key too.

Rows stored in clear by an older release still read (a plain string is taken
as it is) and are encrypted on their next save or by migration 0010. When
``SECRET_KEY`` changes, keys in ``SECRET_KEY_FALLBACKS`` (Flask's own setting
for the same purpose) still decrypt, and ``ninerstatus reencrypt-secrets``
encrypts everything again under the current key so the old one can go.
A token no key opens is reported, never guessed at: the check cannot run and
its form asks for the secret again. See docs/check-settings.md.
"""
from __future__ import annotations

import base64
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

#: The HKDF label: another use of the secret key gets another label, hence another key.
PURPOSE = b"ninerstatus check settings v1"
#: The one key of a stored secret; its name says how the token was made.
SEALED_KEY = "fernet"


class UnreadableSecret(ValueError):
    """A stored secret setting that no key of the site opens."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(sorted(names))
        super().__init__(f"its secret setting {', '.join(self.names)} cannot be decrypted with the site's "
                         "secret key (was SECRET_KEY changed?): type it again in the check's form")


def derive_key(secret_key: str | bytes) -> Fernet:
    """The Fernet key for check settings derived from one secret key."""
    material = secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def cipher_for(secret_key: str | bytes, fallbacks: Iterable[str | bytes] = ()) -> MultiFernet:
    """Encrypts under ``secret_key``'s key; decrypts with it or with any of ``fallbacks``'."""
    return MultiFernet([derive_key(key) for key in (secret_key, *fallbacks) if key])


def site_cipher() -> MultiFernet:
    """The cipher of the current application (``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS``)."""
    config = current_app.config
    return cipher_for(config["SECRET_KEY"], config.get("SECRET_KEY_FALLBACKS") or ())


def is_sealed(value: Any) -> bool:
    """True for a value stored encrypted (``{"fernet": TOKEN}``)."""
    return isinstance(value, Mapping) and set(value) == {SEALED_KEY}


def seal_settings(settings: Mapping[str, Any], secret_names: Collection[str], cipher: MultiFernet) -> dict[str, Any]:
    """``settings`` as stored: each non-empty secret encrypted, everything else as it is.

    An empty secret stays empty (it hides nothing and means "none"); one
    already sealed is kept as it is.
    """
    stored = dict(settings)
    for name in secret_names:
        value = stored.get(name)
        if isinstance(value, str) and value:
            stored[name] = {SEALED_KEY: cipher.encrypt(value.encode()).decode("ascii")}
    return stored


def open_settings(stored: Mapping[str, Any], cipher: MultiFernet) -> dict[str, Any]:
    """Stored settings with every sealed value decrypted; ``UnreadableSecret`` names those no key opens.

    A value stored in clear (by an older release) is returned as it is.
    """
    opened, unreadable = {}, []
    for name, value in stored.items():
        if not is_sealed(value):
            opened[name] = value
            continue
        try:
            opened[name] = cipher.decrypt(str(value[SEALED_KEY]).encode()).decode()
        except (InvalidToken, UnicodeError, ValueError):
            unreadable.append(name)
    if unreadable:
        raise UnreadableSecret(unreadable)
    return opened


def readable_settings(stored: Mapping[str, Any], cipher: MultiFernet) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Stored settings opened where they can be, and the names of the secrets that cannot (left out)."""
    try:
        return open_settings(stored, cipher), ()
    except UnreadableSecret as error:
        kept = {name: value for name, value in stored.items() if name not in error.names}
        return open_settings(kept, cipher), error.names
