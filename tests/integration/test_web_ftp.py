"""HTTP(S) checks against Debian's nginx and FTP checks against vsftpd with AUTH TLS."""
from __future__ import annotations

import pytest

from ninerstatus import ErrorKind, Status, TlsMode

from .conftest import probe

pytestmark = pytest.mark.integration


def test_http_page_is_up_and_its_text_matches(services):
    result = probe("http", "http", services.port("HTTP"), expect_body="integration page")
    assert result.status is Status.OK and result.summary.startswith("200"), result.summary
    assert result.timings.first_byte is not None


def test_https_page_is_up_with_a_verified_certificate(services):
    result = probe("http", "http", services.port("HTTPS"), tls=TlsMode.IMPLICIT, policy=services.trusting,
                   tls_name="localhost", path="/moved")
    assert result.status is Status.OK, result.summary
    assert result.tls.verified and result.metrics["redirects"] == 1


def test_https_probe_does_not_trust_the_private_ca_by_default(services):
    result = probe("http", "http", services.port("HTTPS"), tls=TlsMode.IMPLICIT)
    assert result.error_kind is ErrorKind.CERT_UNTRUSTED


def test_https_probe_reports_a_certificate_for_another_name(services):
    result = probe("http", "http", services.port("HTTPS"), tls=TlsMode.IMPLICIT, policy=services.trusting,
                   tls_name="www.example.org")
    assert result.error_kind is ErrorKind.CERT_HOSTNAME


@pytest.mark.parametrize("path, words", [("/broken", "503"), ("/nothing", "404"), ("/loop", "loop")])
def test_http_probe_reports_failing_pages(services, path, words):
    result = probe("http", "http", services.port("HTTP"), path=path)
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.UNEXPECTED_REPLY
    assert words in result.summary


def test_http_probe_reports_missing_body_text(services):
    result = probe("http", "http", services.port("HTTP"), expect_body="not on the page")
    assert result.error_kind is ErrorKind.EXPECTATION_FAILED


def test_ftp_login_after_auth_tls_is_ok_and_the_passive_port_opens(services):
    result = probe("ftp", "ftp", services.port("FTP"), tls=TlsMode.STARTTLS, policy=services.trusting,
                   username=services["TEST_USER"], password=services["TEST_PASSWORD"], check_pasv="y")
    assert result.status is Status.OK, result.summary
    assert "AUTH TLS ok" in result.summary and "login ok" in result.summary
    assert any(line == "C: QUIT" for line in result.transcript)


def test_ftp_login_with_a_wrong_password_is_auth_failed(services):
    result = probe("ftp", "ftp", services.port("FTP"), tls=TlsMode.STARTTLS, policy=services.trusting,
                   username=services["TEST_USER"], password="not-the-password")
    assert result.error_kind is ErrorKind.AUTH_FAILED


def test_ftp_never_sends_the_password_when_the_certificate_is_untrusted(services):
    result = probe("ftp", "ftp", services.port("FTP"), tls=TlsMode.STARTTLS,
                   username=services["TEST_USER"], password=services["TEST_PASSWORD"])
    assert result.error_kind is ErrorKind.CERT_UNTRUSTED
    assert not any(line.startswith(("C: USER", "C: PASS")) for line in result.transcript)


def test_ftp_with_tls_none_stays_in_plaintext_and_says_auth_tls_is_offered(services):
    result = probe("ftp", "ftp", services.port("FTP"))
    assert result.status is Status.OK, result.summary
    assert result.summary == "FTP ok, AUTH TLS offered" and result.tls is None
    assert not any(line.startswith("C: AUTH") for line in result.transcript)


def test_ftp_never_sends_a_password_without_tls(services):
    result = probe("ftp", "ftp", services.port("FTP"),
                   username=services["TEST_USER"], password=services["TEST_PASSWORD"])
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)
    assert result.transcript == ()  # refused before connecting


@pytest.mark.parametrize("tls", [TlsMode.STARTTLS, TlsMode.NONE])
def test_ftp_check_of_postfix_is_not_taken_for_an_ftp_server(services, tls):
    result = probe("ftp", "ftp", services.port("SMTP_SUBMISSION"), tls=tls)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR), result.summary
    assert result.summary.startswith("not an FTP server: FEAT answered 500 ")
