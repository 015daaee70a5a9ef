"""TLS client contexts are shared between probes, yet a changed CA file or an aged store is read again."""
from __future__ import annotations

import ssl
import threading
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


def test_probes_starting_together_on_many_threads_share_one_context_per_policy_and_never_another_policys(
        monkeypatch, ca_file):
    monkeypatch.setattr(tls, "_contexts", {})
    policies = [TlsPolicy(), TlsPolicy(verify=False), TlsPolicy(ca_file=ca_file), TlsPolicy(ca_file=ca_file, crit_days=1)]
    start = threading.Barrier(16)
    seen: list[tuple[int, ssl.SSLContext]] = []
    seen_lock = threading.Lock()

    def probe_starts(thread: int) -> None:
        start.wait()
        for round_ in range(20):
            index = (thread + round_) % len(policies)
            context = tls.client_context(policies[index])
            with seen_lock:
                seen.append((index, context))

    threads = [threading.Thread(target=probe_starts, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    by_policy = {index: {id(context) for seen_index, context in seen if seen_index == index} for index in range(4)}
    assert all(len(contexts) == 1 for contexts in by_policy.values())
    # The two CA-file policies differ only in thresholds, which the context does not hold.
    assert by_policy[2] == by_policy[3]
    assert len(by_policy[0] | by_policy[1] | by_policy[2]) == 3
    assert {context.verify_mode for index, context in seen if index == 1} == {ssl.CERT_NONE}
    assert {context.verify_mode for index, context in seen if index != 1} == {ssl.CERT_REQUIRED}
