"""TLS client contexts are shared between probes, yet a changed CA file or an aged store is read again."""
from __future__ import annotations

from types import SimpleNamespace

import trustme

from ninerstatus.probing import ErrorKind, Status, TlsPolicy, tls

from .conftest import server_tls
from .test_tls import probe_tls


def test_probes_with_the_same_policy_share_one_context(ca_file):
    policy = TlsPolicy(ca_file=ca_file)
    assert tls.client_context(policy) is tls.client_context(TlsPolicy(ca_file=ca_file, warn_days=30))
    assert tls.client_context(policy) is not tls.client_context(TlsPolicy(verify=False))
    assert tls.client_context(policy) is not tls.client_context(TlsPolicy())


def test_a_ca_file_rewritten_in_place_is_trusted_from_the_next_probe(serve, ca, tmp_path):
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    policy = TlsPolicy(ca_file=str(ca_file))
    assert probe_tls(serve, server_tls(ca, "127.0.0.1"), policy).error_kind is ErrorKind.CERT_UNTRUSTED

    ca.cert_pem.write_to_path(str(ca_file))
    result = probe_tls(serve, server_tls(ca, "127.0.0.1"), policy)
    assert (result.status, result.error_kind) == (Status.OK, None)


def test_a_context_is_built_again_once_its_reuse_time_is_over(monkeypatch, ca_file):
    now = [1000.0]
    monkeypatch.setattr(tls, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(tls, "_contexts", {})
    first = tls.client_context(TlsPolicy(ca_file=ca_file))
    now[0] += tls.CONTEXT_REUSE_SECONDS - 1
    assert tls.client_context(TlsPolicy(ca_file=ca_file)) is first
    now[0] += 2
    assert tls.client_context(TlsPolicy(ca_file=ca_file)) is not first
