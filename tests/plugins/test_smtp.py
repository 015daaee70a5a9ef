"""The SMTP check against aiosmtpd on loopback (STARTTLS, SMTPS, plain), scripted refusals and hostile peers."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ninerstatus import create_app
from ninerstatus.checktypes import CheckTypeError
from ninerstatus.probing import ErrorKind, Status, Target, TlsMode, TlsPolicy, run_probe
from ninerstatus_plugins import smtp

from ..probing.conftest import server_tls
from ..probing.servers import Peer
from ..probing.test_hostile_peers import tls_hello_then_close
from .mailservers import (
    CERTIFICATES, HOSTILE_PEERS, HOSTILE_TIMEOUT, TIMEOUT, Received, SmtpServer, check, closed_port, dialogue,
)

SMTP = smtp.ninerstatus_check_types()[0]
EHLO_WITH_STARTTLS = b"250-mail.example.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"


@pytest.fixture
def smtpd() -> Iterator[Any]:
    """Start aiosmtpd on loopback: ``smtpd(tls_context=..., ...)`` returns the running server."""
    servers: list[SmtpServer] = []

    def start(**options: Any) -> SmtpServer:
        servers.append(SmtpServer(**options))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def settings(**raw: str) -> dict[str, Any]:
    """The check's settings as the core passes them: parsed from text, defaults filled in."""
    return SMTP.parse_settings(raw)


def test_smtp_check_type_uses_starttls_on_587_and_implicit_tls_on_465():
    assert SMTP.default_port == 587
    assert SMTP.ports == {"smtp": 25, "submission": 587, "smtps": 465}
    assert [SMTP.default_tls(port) for port in (25, 587, 465)] == [TlsMode.NONE, TlsMode.STARTTLS, TlsMode.IMPLICIT]


def test_smtp_probe_upgrades_with_starttls_and_reports_auth_before_and_after(smtpd, ca, ca_file):
    server = smtpd(tls_context=server_tls(ca, "127.0.0.1", days=62.5))
    result = check(smtp.probe, server.port, TlsMode.STARTTLS, settings(), ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.OK, None), result.summary
    assert result.summary == "STARTTLS ok, certificate 62 days, AUTH LOGIN PLAIN"
    # aiosmtpd offers AUTH only over TLS, as a well-configured submission server does.
    assert result.details["auth_before_tls"] == () and result.details["auth"] == ("LOGIN", "PLAIN")
    assert "STARTTLS" in result.details["capabilities_before_tls"]
    assert "STARTTLS" not in result.details["capabilities"]
    assert result.details["banner"].startswith("mail.example.test")
    assert result.timings.banner is not None and result.timings.starttls is not None
    assert result.timings.tls is not None and result.tls.verified
    sent = [line for line in result.transcript if line.startswith("C: ")]
    assert sent == ["C: EHLO [127.0.0.1]", "C: STARTTLS", "C: EHLO [127.0.0.1]", "C: QUIT"]
    assert result.transcript[-1] == "S: 221 Bye"


def test_smtp_probe_speaks_implicit_tls_on_smtps(smtpd, ca, ca_file):
    # aiosmtpd cannot tell a connection wrapped from the start is TLS; let it offer AUTH anyway.
    server = smtpd(implicit_tls=server_tls(ca, "127.0.0.1", days=62.5), auth_require_tls=False)
    result = check(smtp.probe, server.port, TlsMode.IMPLICIT, settings(), ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.summary == "TLS ok, certificate 62 days, AUTH LOGIN PLAIN"
    assert result.timings.starttls is None and result.timings.tls is not None
    assert "capabilities_before_tls" not in result.details


def test_smtp_probe_says_when_the_certificate_was_not_verified(smtpd, stranger_ca):
    server = smtpd(tls_context=server_tls(stranger_ca, "127.0.0.1", days=62.5))
    result = run_probe(smtp.probe, Target("127.0.0.1", server.port, tls=TlsMode.STARTTLS), {}, TIMEOUT,
                       tls_policy=TlsPolicy(verify=False))
    assert result.status is Status.OK, result.summary
    assert result.summary == "STARTTLS ok (unverified), certificate 62 days, AUTH LOGIN PLAIN"


def test_smtp_probe_on_a_plain_port_says_whether_starttls_is_offered(smtpd, ca):
    with_tls = smtpd(tls_context=server_tls(ca, "127.0.0.1"))
    without_tls = smtpd()
    assert check(smtp.probe, with_tls.port).summary == "SMTP ok, STARTTLS offered"
    plain = check(smtp.probe, without_tls.port)
    assert (plain.status, plain.summary, plain.tls) == (Status.OK, "SMTP ok, no STARTTLS", None)


def test_smtp_probe_reads_the_whole_multi_line_greeting_before_speaking(serve):
    log: list[Received] = []
    spoke_early: list[bytes] = []

    def slow_greeting(peer: Peer) -> None:
        # Postscreen's pregreet test: pause inside the greeting and see whether the client talks.
        peer.send(b"220-mail.example.test ESMTP\r\n")
        peer.conn.settimeout(0.3)
        try:
            spoke_early.append(peer.conn.recv(1))
        except TimeoutError:
            pass
        peer.conn.settimeout(5)
        dialogue(b"220 no pipelining before this line, please\r\n",
                 {"EHLO": b"250 mail.example.test\r\n", "QUIT": b"221 bye\r\n"}, log)(peer)

    result = check(smtp.probe, serve(slow_greeting).port)
    assert spoke_early == []
    assert result.status is Status.OK, result.summary
    assert result.details["banner"] == "mail.example.test ESMTP\nno pipelining before this line, please"
    assert [entry.line for entry in log] == ["EHLO [127.0.0.1]", "QUIT"]


def test_smtp_probe_reports_a_554_greeting_and_still_says_quit(serve):
    log: list[Received] = []
    server = serve(dialogue(b"554 5.7.1 mail.example.test no SMTP service here\r\n", {"QUIT": b"221 bye\r\n"}, log))
    result = check(smtp.probe, server.port)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert "554" in result.summary
    assert [entry.line for entry in log] == ["QUIT"]


def test_smtp_probe_reports_starttls_missing_and_sends_nothing_but_quit(serve, smtpd):
    log: list[Received] = []
    scripted = serve(dialogue(b"220 mail.example.test\r\n",
                              {"EHLO": b"250-mail.example.test\r\n250 AUTH PLAIN\r\n", "QUIT": b"221 bye\r\n"}, log))
    result = check(smtp.probe, scripted.port, TlsMode.STARTTLS)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary == "STARTTLS not offered"
    assert result.details["auth_before_tls"] == ("PLAIN",)
    assert [entry.line for entry in log] == ["EHLO [127.0.0.1]", "QUIT"]
    # The same against a real server that has no TLS configured.
    real = check(smtp.probe, smtpd().port, TlsMode.STARTTLS)
    assert real.error_kind is ErrorKind.STARTTLS_UNAVAILABLE


def test_smtp_probe_reports_starttls_refused(smtpd, ca, ca_file):
    server = smtpd(tls_context=server_tls(ca, "127.0.0.1"), refuse_starttls=True)
    result = check(smtp.probe, server.port, TlsMode.STARTTLS, ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary.startswith("STARTTLS refused: 454")
    assert result.tls is None and result.transcript[-2:] == ("C: QUIT", "S: 221 Bye")


def test_smtp_probe_falls_back_to_helo_only_when_tls_is_not_required(smtpd):
    server = smtpd(refuse_ehlo=True)
    plain = check(smtp.probe, server.port)
    assert plain.status is Status.OK, plain.summary
    assert "C: HELO [127.0.0.1]" in plain.transcript
    required = check(smtp.probe, server.port, TlsMode.STARTTLS)
    assert (required.status, required.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert "EHLO refused (502" in required.summary
    assert not any(line.startswith("C: HELO") for line in required.transcript)


def test_smtp_probe_reports_an_ehlo_answered_with_4xx_as_unexpected_reply(serve):
    log: list[Received] = []
    server = serve(dialogue(b"220 mail.example.test\r\n", {"EHLO": b"421 4.3.2 shutting down\r\n"}, log))
    result = check(smtp.probe, server.port)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert [entry.line for entry in log] == ["EHLO [127.0.0.1]", "QUIT"]


@pytest.mark.parametrize(("expect_auth", "exclude", "status", "verdict"), [
    pytest.param("plain login", (), Status.OK, "AUTH PLAIN LOGIN offered", id="all-offered"),
    pytest.param("PLAIN, CRAM-MD5", (), Status.WARNING, "AUTH CRAM-MD5 not offered", id="one-missing"),
    pytest.param("PLAIN", ("LOGIN", "PLAIN"), Status.CRITICAL, "no AUTH offered", id="none-offered"),
])
def test_smtp_probe_checks_the_expected_auth_mechanisms_after_tls(smtpd, ca, ca_file, expect_auth, exclude,
                                                                  status, verdict):
    server = smtpd(tls_context=server_tls(ca, "127.0.0.1", days=62.5), auth_exclude_mechanism=exclude)
    result = check(smtp.probe, server.port, TlsMode.STARTTLS, settings(expect_auth=expect_auth), ca_file=ca_file)
    auth = next(sub for sub in result.subchecks if sub.name == "auth")
    assert (result.status, auth.status, auth.summary) == (status, status, verdict)
    assert result.error_kind is (None if status is Status.OK else ErrorKind.EXPECTATION_FAILED)
    assert result.transcript[-1] == "S: 221 Bye"  # a finding is no reason to hang up rudely


def test_smtp_probe_greets_with_the_configured_helo_name(smtpd):
    result = check(smtp.probe, smtpd().port, settings=settings(helo_name="probe.example.test"))
    assert "C: EHLO probe.example.test" in result.transcript


@pytest.mark.parametrize("name", ["bad name", "-oProxyCommand", "[::1]", "[IPv6:127.0.0.1]", "[x]"])
def test_smtp_helo_name_must_be_a_host_name_or_address_literal(name):
    with pytest.raises(CheckTypeError, match="helo_name"):
        settings(helo_name=name)
    assert settings(helo_name="[IPv6:::1]")["helo_name"] == "[IPv6:::1]"
    assert settings(helo_name="[192.0.2.1]")["helo_name"] == "[192.0.2.1]"


@pytest.mark.parametrize(("certificate", "status", "kind"), CERTIFICATES)
def test_smtp_probe_judges_the_certificate_offered_after_starttls(smtpd, ca, stranger_ca, ca_file, certificate,
                                                                  status, kind):
    server = smtpd(tls_context=certificate(ca, stranger_ca))
    result = check(smtp.probe, server.port, TlsMode.STARTTLS, ca_file=ca_file)
    assert (result.status, result.error_kind) == (status, kind), result.summary
    assert result.tls is not None


def test_smtp_probe_reports_a_closed_port_as_connect_refused():
    result = check(smtp.probe, closed_port(), TlsMode.STARTTLS)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED)


@pytest.mark.parametrize(("script", "tls", "kind"), HOSTILE_PEERS)
def test_smtp_probe_survives_hostile_peers_within_its_timeout(serve, script, tls, kind):
    result = check(smtp.probe, serve(script).port, tls, timeout=HOSTILE_TIMEOUT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


def test_smtp_probe_reports_a_connection_closed_in_the_starttls_handshake(serve, ca_file):
    log: list[Received] = []
    server = serve(dialogue(b"220 mail.example.test\r\n", {"EHLO": EHLO_WITH_STARTTLS, "STARTTLS": b"220 go\r\n"},
                            log, after="STARTTLS", then=tls_hello_then_close))
    result = check(smtp.probe, server.port, TlsMode.STARTTLS, ca_file=ca_file, timeout=HOSTILE_TIMEOUT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.TLS_HANDSHAKE), result.summary


def test_smtp_probe_ignores_replies_injected_before_the_tls_handshake(serve, ca, ca_file):
    def injecting(peer: Peer) -> None:
        # A man in the middle appends a fake post-TLS reply to the STARTTLS go-ahead (CVE-2011-0411).
        peer.send(b"220 mail.example.test\r\n")
        peer.read_line()
        peer.send(EHLO_WITH_STARTTLS)
        peer.read_line()
        peer.send(b"220 go ahead\r\n250-injected\r\n250 AUTH INJECTED\r\n")
        peer.start_tls(server_tls(ca, "127.0.0.1", days=62.5))
        dialogue(b"", {"EHLO": b"250-mail.example.test\r\n250 AUTH PLAIN\r\n", "QUIT": b"221 bye\r\n"}, [])(peer)

    result = check(smtp.probe, serve(injecting).port, TlsMode.STARTTLS, ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.details["auth"] == ("PLAIN",)


def test_smtp_check_command_prints_one_nagios_line(smtpd, ca, ca_file, tmp_path):
    server = smtpd(tls_context=server_tls(ca, "127.0.0.1", days=62.5))
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"})
    outcome = app.test_cli_runner().invoke(args=[
        "check", "smtp", "--host", "127.0.0.1", "--port", str(server.port), "--tls", "starttls",
        "--ca-file", ca_file, "-o", "expect_auth=PLAIN", "--nagios"])
    assert outcome.exit_code == 0, outcome.output
    assert len(outcome.output.splitlines()) == 1
    assert outcome.output.startswith("SMTP OK - STARTTLS ok, certificate 62 days, AUTH LOGIN PLAIN | ")
    assert "'time_banner'=" in outcome.output and "'time_starttls'=" in outcome.output
    assert outcome.output.rstrip().endswith("'cert_days_left'=62;21:;7:;;")
