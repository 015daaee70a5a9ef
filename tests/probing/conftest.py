"""Fixtures for the probing tests: loopback servers and trustme certificates."""
from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import trustme

from .servers import LoopbackServer, Script


@pytest.fixture
def serve() -> Iterator[Any]:
    """Start a ``LoopbackServer`` running a script; ``serve(script, tls=..., host=...)`` returns it."""
    servers: list[LoopbackServer] = []

    def start(script: Script, **options: Any) -> LoopbackServer:
        server = LoopbackServer(script, **options)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    """The CA the probes under test are told to trust."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``ca`` as a PEM file, for ``TlsPolicy(ca_file=...)``."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def stranger_ca() -> trustme.CA:
    """A CA nobody trusts."""
    return trustme.CA()


def server_tls(ca: trustme.CA, *identities: str, days: float = 62, expired: bool = False) -> ssl.SSLContext:
    """A server context with a certificate from ``ca`` valid for ``days`` more days (or expired)."""
    now = datetime.now(timezone.utc)
    if expired:
        leaf = ca.issue_cert(*identities, not_before=now - timedelta(days=60), not_after=now - timedelta(days=2))
    else:
        leaf = ca.issue_cert(*identities, not_before=now - timedelta(days=1), not_after=now + timedelta(days=days))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    return context


def self_signed_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A server context presenting ``ca``'s own self-signed certificate."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with ca.cert_pem.tempfile() as cert, ca.private_key_pem.tempfile() as key:
        context.load_cert_chain(cert, key)
    return context
