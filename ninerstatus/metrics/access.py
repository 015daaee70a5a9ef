"""Who may read /metrics: a bearer token, an allowlist of client networks, or both.

A status site's internals (internal checks, runner lag, the outbox) are not
public, so ``/metrics`` answers only when at least one guard is configured,
and then only to a client that passes every configured guard:

- ``METRICS_ALLOW``: client addresses or networks (CIDR, IPv4 or IPv6). The
  client address is the one the rest of the site uses (``request.remote_addr``
  after ``TRUSTED_PROXY_HOPS`` proxies, as the sign-in throttle sees it), so
  behind a proxy the allowlist names the scrapers, not the proxy.
- ``METRICS_TOKEN``: the scraper sends ``Authorization: Bearer <token>``;
  tokens are compared in constant time.

Refusals: 404 when neither guard is configured and 404 from an address
outside the allowlist, so a stranger cannot even tell that the site has
metrics (the same answer as for any page that does not exist); 401 (with
``WWW-Authenticate: Bearer``) to an allowed address, or any address when
only the token is configured, that sent no token or a wrong one, which tells
an operator setting up Prometheus what is missing.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..config import ConfigError

#: Shorter tokens are refused at start: a scraper's token is machine-made, so it can be long.
MIN_TOKEN_LENGTH = 16
TOKEN_ADVICE = "for example the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class MetricsAccess:
    """The configured guards: a token (its SHA-256, so every comparison takes the same time) and networks."""

    token_digest: bytes | None = None
    networks: tuple[Network, ...] = ()

    @classmethod
    def of(cls, config: Mapping[str, Any]) -> MetricsAccess:
        """The guards ``METRICS_TOKEN`` and ``METRICS_ALLOW`` set; ``ConfigError`` for a value that cannot work."""
        return cls(_token_digest(config.get("METRICS_TOKEN")), _networks(config.get("METRICS_ALLOW")))

    @property
    def enabled(self) -> bool:
        """True when /metrics answers anyone at all."""
        return self.token_digest is not None or bool(self.networks)

    def refusal(self, remote_addr: str | None, authorization: str | None) -> int | None:
        """The status to refuse a request with (404 or 401), or None to answer it."""
        if not self.enabled:
            return 404
        if self.networks and not self.allows_address(remote_addr):
            return 404
        if self.token_digest is not None and not self.token_matches(authorization):
            return 401
        return None

    def allows_address(self, remote_addr: str | None) -> bool:
        """True when ``remote_addr`` is in one of the allowed networks."""
        try:
            address = ipaddress.ip_address((remote_addr or "").split("%", 1)[0])
        except ValueError:  # no address at all (a Unix socket) or something no network holds
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket's form of an IPv4 client
        return any(address in network for network in self.networks)

    def token_matches(self, authorization: str | None) -> bool:
        """True when the ``Authorization`` header carries the configured bearer token."""
        scheme, _, given = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or self.token_digest is None:
            return False
        return hmac.compare_digest(hashlib.sha256(given.strip().encode()).digest(), self.token_digest)


def _token_digest(token: Any) -> bytes | None:
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        # NINERSTATUS_METRICS_TOKEN=1234... reads as a JSON number; a token that lost its leading
        # zeros would silently never match.
        raise ConfigError(f"METRICS_TOKEN must be text, not the {type(token).__name__} {token!r}; "
                          f"use letters too ({TOKEN_ADVICE})")
    if len(token) < MIN_TOKEN_LENGTH or token != token.strip() or any(c.isspace() for c in token):
        raise ConfigError(f"METRICS_TOKEN must be at least {MIN_TOKEN_LENGTH} characters without spaces, "
                          f"{TOKEN_ADVICE}")
    return hashlib.sha256(token.encode()).digest()


def _networks(setting: Any) -> tuple[Network, ...]:
    """``METRICS_ALLOW`` as networks: a list, or one string of addresses separated by commas or spaces."""
    if setting is None:
        return ()
    items = setting.replace(",", " ").split() if isinstance(setting, str) else setting
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"METRICS_ALLOW must be a list of addresses or networks such as "
                          f"[\"10.0.0.0/8\", \"2001:db8::/32\"], not {setting!r}")
    networks = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(str(item).strip(), strict=False))
        except ValueError:
            raise ConfigError(f"METRICS_ALLOW: {item!r} is not an address or network "
                              "such as 192.0.2.7, 10.0.0.0/8 or 2001:db8::/32") from None
    return tuple(networks)
