"""SMTP, IMAP and POP3 checks against Debian's postfix and dovecot.

postfix listens as a hosting company runs it: a plain port without STARTTLS,
submission with STARTTLS required (AUTH only after TLS), and SMTPS. dovecot
serves IMAP and POP3 with STARTTLS/STLS and with implicit TLS, and knows one
test account.
"""
from __future__ import annotations

import pytest

from ninerstatus import ErrorKind, Status, TlsMode
from ninerstatus.probing import TlsPolicy

from .conftest import probe

pytestmark = pytest.mark.integration


def test_smtp_submission_is_up_with_starttls_and_auth_only_after_tls(services):
    result = probe("smtp", "smtp", services.port("SMTP_SUBMISSION"), tls=TlsMode.STARTTLS, policy=services.trusting)
    assert result.status is Status.OK, result.summary
    assert result.summary.startswith("STARTTLS ok") and "AUTH PLAIN LOGIN" in result.summary
    assert result.tls.verified and result.timings.starttls is not None
    assert "C: QUIT" in result.transcript


def test_smtps_is_up_with_implicit_tls(services):
    result = probe("smtp", "smtp", services.port("SMTPS"), tls=TlsMode.IMPLICIT, policy=services.trusting)
    assert result.status is Status.OK and result.summary.startswith("TLS ok"), result.summary


def test_smtp_probe_reports_starttls_missing_on_the_plain_postfix_port(services):
    result = probe("smtp", "smtp", services.port("SMTP_PLAIN"), tls=TlsMode.STARTTLS, policy=services.trusting)
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.STARTTLS_UNAVAILABLE


def test_smtp_plain_port_is_up_when_no_tls_is_asked_for(services):
    result = probe("smtp", "smtp", services.port("SMTP_PLAIN"))
    assert result.status is Status.OK and result.tls is None, result.summary


def test_smtp_probe_reports_an_expected_auth_mechanism_missing(services):
    result = probe("smtp", "smtp", services.port("SMTP_SUBMISSION"), tls=TlsMode.STARTTLS,
                   policy=services.trusting, expect_auth="CRAM-MD5")
    assert result.error_kind is ErrorKind.EXPECTATION_FAILED and "CRAM-MD5" in result.summary


def test_smtp_probe_does_not_trust_the_private_ca_by_default(services):
    result = probe("smtp", "smtp", services.port("SMTPS"), tls=TlsMode.IMPLICIT)
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.CERT_UNTRUSTED


def test_smtp_probe_reports_a_certificate_for_another_name(services):
    result = probe("smtp", "smtp", services.port("SMTP_SUBMISSION"), tls=TlsMode.STARTTLS,
                   policy=services.trusting, tls_name="wrong.example")
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.CERT_HOSTNAME


def test_smtp_probe_warns_when_the_certificate_expires_before_the_threshold(services):
    # The private CA's leaf lives for centuries, so a threshold beyond that
    # shows the expiry arithmetic on a real postfix certificate.
    policy = TlsPolicy(ca_file=services.ca_file, warn_days=10**6, crit_days=0)
    result = probe("smtp", "smtp", services.port("SMTPS"), tls=TlsMode.IMPLICIT, policy=policy)
    assert result.status is Status.WARNING and result.error_kind is ErrorKind.CERT_EXPIRING


@pytest.mark.parametrize("module, port, tls", [
    ("imap", "IMAP", TlsMode.STARTTLS), ("imap", "IMAPS", TlsMode.IMPLICIT),
    ("pop", "POP3", TlsMode.STARTTLS), ("pop", "POP3S", TlsMode.IMPLICIT),
])
def test_mailbox_login_with_the_test_account_is_ok(services, module, port, tls):
    result = probe(module, module, services.port(port), tls=tls, policy=services.trusting,
                   username=services["TEST_USER"], password=services["TEST_PASSWORD"])
    assert result.status is Status.OK and "login ok" in result.summary, result.summary
    assert services["TEST_PASSWORD"] not in "\n".join(result.transcript)


@pytest.mark.parametrize("module, port, tls", [
    ("imap", "IMAP", TlsMode.STARTTLS), ("imap", "IMAPS", TlsMode.IMPLICIT),
    ("pop", "POP3", TlsMode.STARTTLS), ("pop", "POP3S", TlsMode.IMPLICIT),
])
def test_mailbox_login_with_a_wrong_password_is_auth_failed(services, module, port, tls):
    result = probe(module, module, services.port(port), tls=tls, policy=services.trusting,
                   username=services["TEST_USER"], password="not-the-password")
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.AUTH_FAILED


def test_imap_asks_for_capabilities_again_after_starttls(services):
    result = probe("imap", "imap", services.port("IMAP"), tls=TlsMode.STARTTLS, policy=services.trusting)
    assert result.status is Status.OK, result.summary
    # Dovecot offers STARTTLS in plaintext only: the list after TLS is a fresh one.
    assert "STARTTLS" in result.details["capabilities_before_tls"]
    assert "STARTTLS" not in result.details["capabilities"]
    assert any(line.endswith("LOGOUT") for line in result.transcript if line.startswith("C:"))


@pytest.mark.parametrize("module, port", [("imap", "IMAPS"), ("pop", "POP3S")])
def test_mailbox_probes_do_not_trust_the_private_ca_by_default(services, module, port):
    result = probe(module, module, services.port(port), tls=TlsMode.IMPLICIT,
                   username=services["TEST_USER"], password=services["TEST_PASSWORD"])
    assert result.error_kind is ErrorKind.CERT_UNTRUSTED
    # The credential never left: the handshake failed before any login.
    assert not any(line.startswith("C:") for line in result.transcript)
