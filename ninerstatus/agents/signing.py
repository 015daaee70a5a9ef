"""Agent tokens and request signatures: what an agent sends and what the site checks (docs/agents.md).

A token reads ``nsa1.<id>.<secret>``: the id finds the location, the secret
(256 random bits) proves the agent is that location's. The site keeps only
the SHA-256 of the secret; with that much randomness a slow password hash
would add nothing. Every request carries the token as a bearer credential
over TLS and, besides, an HMAC-SHA256 under the whole token of the method,
the path with its query, a timestamp, a nonce and the SHA-256 of the body:
a captured request cannot be altered, and an old one is refused by its
timestamp. This module needs only the standard library, so the agent
imports it without the site.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NamedTuple

PREFIX = "nsa1"
#: The headers of a signed request, besides ``Authorization: Bearer <token>``.
TIMESTAMP_HEADER = "X-Ninerstatus-Timestamp"
NONCE_HEADER = "X-Ninerstatus-Nonce"
SIGNATURE_HEADER = "X-Ninerstatus-Signature"


class Token(NamedTuple):
    """A token split into its public id and its secret."""

    token_id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIX}.{self.token_id}.{self.secret}"


def new_token() -> Token:
    """A fresh random token."""
    return Token(secrets.token_hex(8), secrets.token_urlsafe(32))


def parse_token(text: str) -> Token | None:
    """The token written in ``text`` (surrounding space ignored), or None when it is not one."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1] or not parts[2]:
        return None
    return Token(parts[1], parts[2])


def secret_hash(secret: str) -> str:
    """What the site stores of a token's secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def signature(token: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of one request under ``token`` (``path`` with its query string, as sent)."""
    message = "\n".join((method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()))
    return hmac.new(token.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def signed_headers(token: str, method: str, path: str, body: bytes, now: float) -> dict[str, str]:
    """The headers that authenticate one request sent at ``now`` (Unix seconds)."""
    timestamp, nonce = str(int(now)), secrets.token_hex(16)
    return {"Authorization": f"Bearer {token}", TIMESTAMP_HEADER: timestamp, NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(token, method, path, timestamp, nonce, body)}
