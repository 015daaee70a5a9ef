"""TLS: verification by default, distinct failure kinds, certificate facts, expiry, STARTTLS."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.probing import ErrorKind, Status, Target, TlsMode, TlsPolicy, run_probe

from .conftest import self_signed_tls, server_tls
from .probes import banner_probe, smtp_starttls_probe
from .servers import Peer


def greet(peer: Peer) -> None:
    peer.send(b"220 mail.example.test ESMTP\r\n")
    peer.read_line()
    peer.send(b"221 bye\r\n")


def probe_tls(serve, context, policy, **target):
    server = serve(greet, tls=context)
    return run_probe(banner_probe, Target("127.0.0.1", server.port, tls=TlsMode.IMPLICIT, **target),
                     {}, timeout=2, tls_policy=policy)


def test_valid_certificate_is_verified_and_described(serve, ca, ca_file):
    result = probe_tls(serve, server_tls(ca, "127.0.0.1", "mail.example.test", days=62), TlsPolicy(ca_file=ca_file))
    assert (result.status, result.error_kind) == (Status.OK, None)
    tls = result.tls
    assert tls.verified and tls.hostname_ok and tls.verify_error is None
    assert tls.days_left in (61, 62)
    assert tls.version.startswith("TLSv1.") and tls.cipher
    assert set(tls.sans) == {"mail.example.test", "127.0.0.1"}
    assert "trustme" in tls.issuer
    assert result.timings.tls is not None
    assert result.metrics["cert_days_left"] == tls.days_left
    assert [(c.name, c.status) for c in result.subchecks] == [("certificate", Status.OK)]


def test_without_ca_file_the_system_store_does_not_trust_a_private_ca(serve, ca):
    result = probe_tls(serve, server_tls(ca, "127.0.0.1"), TlsPolicy())
    assert result.error_kind is ErrorKind.CERT_UNTRUSTED


@pytest.mark.parametrize("make_context", [
    pytest.param(lambda ca, stranger: server_tls(stranger, "127.0.0.1"), id="unknown-ca"),
    pytest.param(lambda ca, stranger: self_signed_tls(stranger), id="self-signed"),
])
def test_untrusted_certificate_is_cert_untrusted_and_still_described(serve, ca, stranger_ca, ca_file,
                                                                     make_context):
    result = probe_tls(serve, make_context(ca, stranger_ca), TlsPolicy(ca_file=ca_file))
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CERT_UNTRUSTED)
    assert result.summary.startswith("certificate not trusted:")
    tls = result.tls
    assert not tls.verified
    assert tls.verify_error
    assert "trustme" in tls.subject  # the leaf was read although OpenSSL refused it
    assert tls.days_left is not None


@pytest.mark.parametrize("target", [
    pytest.param({}, id="ip-address"),
    pytest.param({"tls_name": "other.example.test"}, id="host-name"),
])
def test_certificate_for_another_name_is_cert_hostname(serve, ca, ca_file, target):
    result = probe_tls(serve, server_tls(ca, "mail.example.test"), TlsPolicy(ca_file=ca_file), **target)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CERT_HOSTNAME)
    assert result.tls.hostname_ok is False
    assert result.tls.sans == ("mail.example.test",)


def test_tls_name_is_what_gets_verified(serve, ca, ca_file):
    result = probe_tls(serve, server_tls(ca, "mail.example.test"), TlsPolicy(ca_file=ca_file),
                       tls_name="mail.example.test")
    assert result.status is Status.OK and result.tls.verified


def test_expired_certificate_is_cert_expired(serve, ca, ca_file):
    result = probe_tls(serve, server_tls(ca, "127.0.0.1", expired=True), TlsPolicy(ca_file=ca_file))
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CERT_EXPIRED)
    assert result.summary.startswith("certificate expired on ")
    assert result.tls.days_left < 0


@pytest.mark.parametrize(("days", "status"), [(5, Status.CRITICAL), (15, Status.WARNING)])
def test_certificate_close_to_expiry_is_cert_expiring(serve, ca, ca_file, days, status):
    result = probe_tls(serve, server_tls(ca, "127.0.0.1", days=days), TlsPolicy(ca_file=ca_file))
    assert (result.status, result.error_kind) == (status, ErrorKind.CERT_EXPIRING)
    assert result.tls.verified
    assert result.subchecks[-1].summary == f"certificate expires in {days - 1} days"


def test_expiry_thresholds_come_from_the_policy(serve, ca, ca_file):
    result = probe_tls(serve, server_tls(ca, "127.0.0.1", days=15),
                       TlsPolicy(ca_file=ca_file, warn_days=10, crit_days=3))
    assert (result.status, result.error_kind) == (Status.OK, None)


def test_days_left_follows_the_injected_clock(serve, ca, ca_file):
    server = serve(greet, tls=server_tls(ca, "127.0.0.1", days=62))
    target = Target("127.0.0.1", server.port, tls=TlsMode.IMPLICIT)
    first = run_probe(banner_probe, target, {}, timeout=2, tls_policy=TlsPolicy(ca_file=ca_file))
    later = first.tls.not_after - timedelta(days=7, hours=12)
    result = run_probe(banner_probe, target, {}, timeout=2, tls_policy=TlsPolicy(ca_file=ca_file),
                       clock=lambda: later)
    assert result.tls.days_left == 7
    assert result.status is Status.WARNING
    assert result.checked_at == later


def test_verification_off_still_reports_the_certificate(serve, stranger_ca):
    result = probe_tls(serve, self_signed_tls(stranger_ca), TlsPolicy(verify=False))
    assert (result.status, result.error_kind) == (Status.OK, None)
    tls = result.tls
    assert (tls.verified, tls.verify_error) == (False, None)
    assert tls.hostname_ok is False  # worked out from the SANs: the CA cert names no host
    assert tls.days_left is not None and tls.subject


def test_verification_off_still_checks_the_host_name_for_information(serve, stranger_ca):
    result = probe_tls(serve, server_tls(stranger_ca, "*.example.test"), TlsPolicy(verify=False),
                       tls_name="mail.example.test")
    assert result.tls.hostname_ok is True and not result.tls.verified


def test_verification_off_does_not_stop_the_calendar(serve, stranger_ca):
    result = probe_tls(serve, server_tls(stranger_ca, "127.0.0.1", expired=True), TlsPolicy(verify=False))
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CERT_EXPIRED)


def test_policy_refuses_crit_days_above_warn_days():
    with pytest.raises(ValueError):
        TlsPolicy(warn_days=7, crit_days=21)


def starttls_server(context, after_go_ahead: bytes = b""):
    """An SMTP server offering STARTTLS; sends ``after_go_ahead`` in plaintext right after its 220."""
    def script(peer: Peer) -> None:
        peer.send(b"220 mail.example.test ESMTP\r\n")
        peer.read_line()
        peer.send(b"250-mail.example.test\r\n250 STARTTLS\r\n")
        assert peer.read_line() == b"STARTTLS"
        peer.send(b"220 go ahead\r\n" + after_go_ahead)
        peer.start_tls(context)
        peer.read_line()
        peer.send(b"250-mail.example.test\r\n250 AUTH PLAIN LOGIN\r\n")
        peer.read_line()
        peer.send(b"221 bye\r\n")
    return script


def test_starttls_upgrade_asks_again_and_reports_the_certificate(serve, ca, ca_file):
    server = serve(starttls_server(server_tls(ca, "127.0.0.1", days=62)))
    result = run_probe(smtp_starttls_probe, Target("127.0.0.1", server.port, tls=TlsMode.STARTTLS), {},
                       timeout=2, tls_policy=TlsPolicy(ca_file=ca_file))
    assert result.status is Status.OK, result.summary
    assert result.summary in ("STARTTLS ok, certificate 61 days", "STARTTLS ok, certificate 62 days")
    assert result.details["capabilities"] == ("AUTH PLAIN LOGIN",)
    assert all(getattr(result.timings, phase) is not None for phase in ("connect", "banner", "starttls", "tls"))
    tls_line = next(line for line in result.transcript if line.startswith("-- TLS established: TLSv1."))
    assert tls_line.endswith("certificate verified")
    assert list(result.transcript) == [
        "S: 220 mail.example.test ESMTP", "C: EHLO probe.test", "S: 250-mail.example.test",
        "S: 250 STARTTLS", "C: STARTTLS", "S: 220 go ahead", tls_line, "C: EHLO probe.test",
        "S: 250-mail.example.test", "S: 250 AUTH PLAIN LOGIN", "C: QUIT", "S: 221 bye"]


def test_starttls_discards_plaintext_sent_before_the_handshake(serve, ca, ca_file):
    injected = b"250-mail.example.test\r\n250 INJECTED\r\n"
    server = serve(starttls_server(server_tls(ca, "127.0.0.1"), after_go_ahead=injected))
    result = run_probe(smtp_starttls_probe, Target("127.0.0.1", server.port, tls=TlsMode.STARTTLS), {},
                       timeout=2, tls_policy=TlsPolicy(ca_file=ca_file))
    assert result.status is Status.OK, result.summary
    assert result.details["capabilities"] == ("AUTH PLAIN LOGIN",)  # the reply that came over TLS
    assert f"-- discarded {len(injected)} bytes sent in plaintext before the TLS handshake" in result.transcript
    assert not any("INJECTED" in line for line in result.transcript)


def test_starttls_missing_is_reported_by_the_probe(serve):
    def no_starttls(peer: Peer) -> None:
        peer.send(b"220 mail.example.test ESMTP\r\n")
        peer.read_line()
        peer.send(b"250-mail.example.test\r\n250 PIPELINING\r\n")
        peer.idle()

    server = serve(no_starttls)
    result = run_probe(smtp_starttls_probe, Target("127.0.0.1", server.port), {}, timeout=2)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.details["banner"] == "mail.example.test ESMTP"


def test_missing_ca_file_is_a_config_error_not_an_outage(serve, ca, tmp_path):
    result = probe_tls(serve, server_tls(ca, "127.0.0.1"), TlsPolicy(ca_file=str(tmp_path / "missing.pem")))
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)
    assert "missing.pem" in result.summary


@pytest.mark.parametrize(("name", "matches"), [
    ("mail.example.test", True),
    ("MAIL.Example.Test.", True),
    ("other.example.test", True),  # via the wildcard
    ("a.b.example.test", False),  # a wildcard covers one label only
    ("example.test", False),
    ("192.0.2.1", True),
    ("192.0.2.2", False),
])
def test_host_name_matching_follows_rfc_6125(name, matches):
    from ipaddress import ip_address

    from ninerstatus.probing.tls import _name_matches
    assert _name_matches(name, ["mail.example.test", "*.example.test"], [ip_address("192.0.2.1")]) is matches
