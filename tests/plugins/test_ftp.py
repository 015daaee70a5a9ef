"""The FTP check against pyftpdlib on loopback (plain, explicit and implicit FTPS), an SMTP server and hostile peers."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler

from ninerstatus.checktypes import CheckTypeError
from ninerstatus.probing import ErrorKind, Status, Target, TlsMode, TlsPolicy, run_probe
from ninerstatus_plugins import ftp

from ..probing.servers import Peer
from ..probing.test_hostile_peers import drip, endless_line, garbage, silent, tls_hello_then_close
from .ftpservers import (PASSWORD, USER, FtpServer, ImplicitTlsHandler, NoPassivePorts, OlderThanFeat, RefusesAuthTls,
                         StrippedAuthTls, TlsOlderThanFeat, certfile)
from .mailservers import SmtpServer

FTP = ftp.ninerstatus_check_types()[0]
TIMEOUT = 1.5


def settings(**raw: str) -> dict[str, Any]:
    """The check's settings as the core passes them: parsed from text, defaults filled in."""
    return FTP.parse_settings(raw)


def login(**raw: str) -> dict[str, Any]:
    return settings(username=USER, password=PASSWORD, **raw)


@pytest.fixture
def ftpd(tmp_path) -> Iterator[Any]:
    """``ftpd(handler, **attributes)`` starts a recording pyftpdlib server and returns it."""
    servers: list[FtpServer] = []

    def start(handler: type[FTPHandler] = FTPHandler, host: str = "127.0.0.1", **attributes: Any) -> FtpServer:
        server = FtpServer(handler, tmp_path, host, **attributes)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def probe(port: int, probe_settings: dict[str, Any], *, tls: TlsMode = TlsMode.STARTTLS, ca_file: str | None = None,
          timeout: float = TIMEOUT, host: str = "127.0.0.1"):
    """Probe loopback ``port``; by default with AUTH TLS, as a check on port 21 does."""
    policy = TlsPolicy(ca_file=ca_file) if ca_file else TlsPolicy()
    return run_probe(FTP.probe, Target(host, port, tls=tls), probe_settings, timeout, tls_policy=policy)


# --- plain FTP and explicit FTPS ---------------------------------------------------------------


def test_ftp_probe_upgrades_with_auth_tls_and_logs_in(ftpd, ca, ca_file, tmp_path):
    server = ftpd(TLS_FTPHandler, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login(), ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.summary == "AUTH TLS ok, certificate 62 days, login ok"
    assert result.tls is not None and result.tls.verified
    assert "AUTH TLS" in result.details["features"]
    assert "PBSZ" in result.details["features_tls"]  # asked again after the upgrade
    assert result.details["tls_mode"] == "explicit"
    assert result.timings.banner is not None and result.timings.starttls is not None
    assert server.commands[:4] == ["FEAT", "AUTH", "PBSZ", "PROT"]
    assert server.commands[4:] == ["FEAT", "USER", "PASS", "QUIT"]
    assert {sub.name: sub.status for sub in result.subchecks} == {"login": Status.OK, "certificate": Status.OK}


def test_ftp_probe_never_shows_the_password(ftpd, ca, ca_file, tmp_path):
    server = ftpd(TLS_FTPHandler, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login(), ca_file=ca_file)
    assert "C: PASS ***" in result.transcript
    assert PASSWORD not in repr(result.to_dict())


def test_ftp_probe_reads_a_multi_line_banner_whole(ftpd):
    banner = "Welcome to the loopback FTP service, run by the test suite of ninerstatus.\nSecond line."
    server = ftpd(banner=banner)
    result = probe(server.port, settings(), tls=TlsMode.NONE)
    assert result.status is Status.OK, result.summary
    assert result.details["banner"] == banner + "\n"  # pyftpdlib ends a long banner with a bare "220 "
    assert server.commands == ["FEAT", "QUIT"]  # nothing was sent before the last banner line


def test_ftp_probe_never_sends_password_without_tls(ftpd):
    server = ftpd()
    result = probe(server.port, login(), tls=TlsMode.NONE)
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)
    assert result.summary == ("a login test without TLS would send the password in the clear: use TLS mode "
                              "starttls or implicit, or leave the test account empty or use the anonymous account")
    assert server.commands == []  # refused before connecting, as IMAP and POP3 do


def test_ftp_probe_logs_in_anonymously_without_tls(ftpd):
    server = ftpd()
    result = probe(server.port, settings(username="anonymous", password="probe@example.net"), tls=TlsMode.NONE)
    assert result.status is Status.OK, result.summary
    assert result.summary == "FTP ok, no AUTH TLS, login ok"
    assert server.commands == ["FEAT", "USER", "PASS", "QUIT"]


def test_ftp_probe_with_tls_none_stays_in_plaintext(ftpd, ca, tmp_path):
    server = ftpd(TLS_FTPHandler, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, settings(), tls=TlsMode.NONE)
    assert result.status is Status.OK, result.summary
    assert result.summary == "FTP ok, AUTH TLS offered"
    assert result.tls is None and result.details["tls_mode"] == "none"
    assert server.commands == ["FEAT", "QUIT"]  # no AUTH TLS, so no certificate to fail on


def test_ftp_probe_reports_auth_tls_missing_and_sends_no_credentials(ftpd):
    server = ftpd()
    result = probe(server.port, login())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary.startswith("AUTH TLS refused: 5")
    assert result.summary.endswith("; no login attempted without TLS")
    assert server.commands == ["FEAT", "AUTH", "QUIT"]


def test_ftp_probe_reports_auth_tls_refused_and_sends_no_credentials(ftpd, ca, tmp_path):
    server = ftpd(RefusesAuthTls, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary.startswith("AUTH TLS refused: 431")
    assert server.commands == ["FEAT", "AUTH", "QUIT"]


def test_ftp_probe_sends_no_password_when_a_man_in_the_middle_strips_auth_tls(ftpd, ca, tmp_path):
    server = ftpd(StrippedAuthTls, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert "USER" not in server.commands and "PASS" not in server.commands
    assert not any(line.startswith(("C: USER", "C: PASS")) for line in result.transcript)


def test_ftp_probe_without_a_login_reports_auth_tls_missing_too(ftpd):
    result = probe(ftpd().port, settings())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert "login" not in result.summary


def test_ftp_probe_reports_a_wrong_password_as_auth_failed(ftpd, ca, ca_file, tmp_path):
    server = ftpd(TLS_FTPHandler, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, settings(username=USER, password="wrong"), ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.AUTH_FAILED)
    assert result.summary.startswith(f"login as {USER} refused: 530")
    assert server.commands[-1] == "QUIT"


@pytest.mark.parametrize(("names", "expired", "days", "trusted", "kind"), [
    pytest.param(("127.0.0.1",), True, 62.5, True, ErrorKind.CERT_EXPIRED, id="expired"),
    pytest.param(("ftp.other.test",), False, 62.5, True, ErrorKind.CERT_HOSTNAME, id="wrong-name"),
    pytest.param(("127.0.0.1",), False, 62.5, False, ErrorKind.CERT_UNTRUSTED, id="unknown-ca"),
    pytest.param(("127.0.0.1",), False, 3, True, ErrorKind.CERT_EXPIRING, id="expiring"),
])
def test_ftp_probe_reports_certificate_trouble_after_auth_tls(ftpd, ca, stranger_ca, ca_file, tmp_path,
                                                               names, expired, days, trusted, kind):
    issuer = ca if trusted else stranger_ca
    server = ftpd(TLS_FTPHandler, certfile=certfile(issuer, tmp_path, *names, expired=expired, days=days))
    result = probe(server.port, login(), ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary
    assert result.tls is not None and result.tls.not_after is not None
    if kind is not ErrorKind.CERT_EXPIRING:
        assert "USER" not in server.commands  # the login never happens over a refused certificate


# --- implicit FTPS ------------------------------------------------------------------------------


def test_ftp_probe_speaks_implicit_tls(ftpd, ca, ca_file, tmp_path):
    server = ftpd(ImplicitTlsHandler, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login(), tls=TlsMode.IMPLICIT, ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.summary == "TLS ok, certificate 62 days, login ok"
    assert result.details["tls_mode"] == "implicit" and result.timings.tls is not None
    assert server.commands == ["FEAT", "PBSZ", "PROT", "USER", "PASS", "QUIT"]


def test_ftp_check_type_uses_auth_tls_on_21_and_implicit_tls_on_990():
    assert FTP.default_tls(990) is TlsMode.IMPLICIT and FTP.default_tls(21) is TlsMode.STARTTLS
    assert FTP.default_port == 21 and FTP.tls_modes == tuple(TlsMode)
    assert "auth_tls" not in FTP.settings  # the TLS mode alone says how the session is secured


def test_ftp_probe_reports_an_untrusted_implicit_certificate(ftpd, stranger_ca, ca_file, tmp_path):
    server = ftpd(ImplicitTlsHandler, certfile=certfile(stranger_ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login(), tls=TlsMode.IMPLICIT, ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CERT_UNTRUSTED)
    assert server.commands == []


# --- passive mode -------------------------------------------------------------------------------

ANONYMOUS_PASV = settings(username="anonymous", password="probe@example.net", check_pasv="y")



def test_ftp_probe_opens_the_passive_data_port(ftpd, ca, ca_file, tmp_path):
    server = ftpd(TLS_FTPHandler, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login(check_pasv="y"), ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.summary.endswith("login ok, passive port open")
    assert result.details["passive"].startswith("127.0.0.1:")
    assert server.commands[-2:] == ["PASV", "QUIT"]


def test_ftp_probe_uses_epsv_over_ipv6(ftpd):
    try:
        server = ftpd(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    result = probe(server.port, ANONYMOUS_PASV, tls=TlsMode.NONE, host="::1")
    assert result.status is Status.OK, result.summary
    assert result.details["passive"].startswith("[::1]:")
    assert server.commands[-2:] == ["EPSV", "QUIT"]


def test_ftp_probe_never_follows_a_passive_address_to_another_host(ftpd, monkeypatch):
    connections = []
    monkeypatch.setattr(ftp, "open_connection", lambda *args: connections.append(args))
    server = ftpd(masquerade_address="127.0.0.2")
    result = probe(server.port, ANONYMOUS_PASV, tls=TlsMode.NONE)
    assert (result.status, result.error_kind) == (Status.WARNING, ErrorKind.PROTOCOL_ERROR)
    assert result.summary == "server offered passive address 127.0.0.2, not followed"
    assert connections == []
    assert server.commands[-1] == "QUIT"


def passive_port_closed(peer: Peer) -> None:
    """Logs anyone in, then offers a passive port on its own address where nothing listens."""
    peer.send(b"220 ready\r\n")
    replies = {b"FEAT": b"211 no features\r\n", b"USER": b"331 password?\r\n", b"PASS": b"230 in\r\n",
               b"PASV": b"227 Entering Passive Mode (127,0,0,1,0,1)\r\n", b"QUIT": b"221 bye\r\n"}
    while (line := peer.read_line()) != b"QUIT":
        peer.send(replies[line.split(b" ")[0]])
    peer.send(replies[b"QUIT"])


def test_ftp_probe_reports_a_closed_passive_port(serve):
    server = serve(passive_port_closed)
    result = probe(server.port, ANONYMOUS_PASV, tls=TlsMode.NONE)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED)
    assert result.summary.startswith("passive data port: could not connect")


def test_ftp_passive_test_needs_a_login():
    with pytest.raises(CheckTypeError, match="needs a username"):
        settings(check_pasv="y")
    assert settings(check_pasv="no")["check_pasv"] is False


# --- QUIT, always -------------------------------------------------------------------------------


@pytest.mark.parametrize(("handler", "attributes", "raw", "kind"), [
    pytest.param(TLS_FTPHandler, {}, {}, None, id="ok"),
    pytest.param(TLS_FTPHandler, {}, {"password": "wrong"}, ErrorKind.AUTH_FAILED, id="auth-failed"),
    pytest.param(FTPHandler, {}, {}, ErrorKind.STARTTLS_UNAVAILABLE, id="no-auth-tls"),
    pytest.param(TLS_FTPHandler, {"masquerade_address": "127.0.0.2"}, {"check_pasv": "y"}, ErrorKind.PROTOCOL_ERROR,
                 id="pasv-not-followed"),
    pytest.param(NoPassivePorts, {}, {"check_pasv": "y"}, ErrorKind.UNEXPECTED_REPLY, id="pasv-refused"),
])
def test_ftp_probe_always_says_quit(ftpd, ca, ca_file, tmp_path, handler, attributes, raw, kind):
    server = ftpd(handler, certfile=certfile(ca, tmp_path, "127.0.0.1"), **attributes)
    result = probe(server.port, login(**raw) if "password" not in raw else settings(username=USER, **raw),
                   ca_file=ca_file)
    assert result.error_kind is kind, result.summary
    assert server.commands[-1] == "QUIT"
    assert result.transcript[-2:] == ("C: QUIT", "S: 221 Goodbye.")  # and waited for the goodbye


# --- unwelcoming and hostile servers -------------------------------------------------------------


def too_many_connections(peer: Peer) -> None:
    peer.send(b"421 Too many connections. Service temporarily unavailable.\r\n")


def auth_tls_then_close(peer: Peer) -> None:
    """Agrees to AUTH TLS, then drops the connection in the middle of the handshake."""
    peer.send(b"220 ready\r\n")
    peer.read_line()
    peer.send(b"211-Features:\r\n AUTH TLS\r\n211 End\r\n")
    peer.read_line()
    peer.send(b"234 go ahead\r\n")
    peer.conn.recv(4096)  # the client's hello
    peer.conn.close()


def test_ftp_probe_reports_a_421_greeting(serve):
    server = serve(too_many_connections)
    result = probe(server.port, settings())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary == "server greeted with 421 'Too many connections. Service temporarily unavailable.'"


@pytest.mark.parametrize(("script", "tls", "kind"), [
    pytest.param(silent, TlsMode.NONE, ErrorKind.READ_TIMEOUT, id="silent"),
    pytest.param(drip, TlsMode.NONE, ErrorKind.READ_TIMEOUT, id="drip"),
    pytest.param(endless_line, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="endless-line"),
    pytest.param(garbage, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="garbage"),
    pytest.param(auth_tls_then_close, TlsMode.STARTTLS, ErrorKind.TLS_HANDSHAKE, id="auth-tls-then-close"),
    pytest.param(tls_hello_then_close, TlsMode.IMPLICIT, ErrorKind.TLS_HANDSHAKE, id="implicit-close"),
    pytest.param(silent, TlsMode.IMPLICIT, ErrorKind.READ_TIMEOUT, id="implicit-silent"),
])
def test_ftp_probe_survives_hostile_peers_within_its_timeout(serve, script, tls, kind):
    server = serve(script)
    result = probe(server.port, settings(), tls=tls, timeout=1.0)
    # The probe's own verdict, so within its timeout and the watchdog's grace (the watchdog's would be UNKNOWN).
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


# --- a real FTP dialogue, not just a 220 greeting ------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """aiosmtpd on loopback: it greets with 220 like an FTP server, and refuses FEAT and SYST with 500."""
    server = SmtpServer()
    yield server
    server.stop()


@pytest.mark.parametrize("tls", [TlsMode.STARTTLS, TlsMode.NONE])
def test_ftp_probe_of_an_smtp_server_is_a_protocol_error(smtp_server, tls):
    server = smtp_server
    raw = {"username": USER, "password": PASSWORD} if tls is TlsMode.STARTTLS else {}
    result = probe(server.port, settings(**raw), tls=tls)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR), result.summary
    assert result.summary.startswith("not an FTP server: FEAT answered 500 ")
    assert ", SYST 500 " in result.summary
    assert not any(line.startswith(("C: AUTH", "C: USER", "C: PASS")) for line in result.transcript)
    assert result.transcript[-1] == "C: QUIT"  # out of step: no waiting for an answer that may not come


def test_ftp_probe_takes_syst_as_proof_from_a_server_without_feat(ftpd):
    server = ftpd(OlderThanFeat)
    result = probe(server.port, settings(), tls=TlsMode.NONE)
    assert result.status is Status.OK, result.summary
    assert result.details["features"] == "FEAT not supported"
    assert result.details["system"] == "UNIX Type: L8"
    assert server.commands == ["FEAT", "SYST", "QUIT"]


def test_ftp_probe_upgrades_a_server_without_feat_once_syst_proves_it_is_ftp(ftpd, ca, ca_file, tmp_path):
    server = ftpd(TlsOlderThanFeat, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    result = probe(server.port, login(), ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert server.commands == ["FEAT", "SYST", "AUTH", "PBSZ", "PROT", "FEAT", "USER", "PASS", "QUIT"]


def test_ftp_probe_reports_a_feat_answer_that_is_no_answer(serve):
    def busy(peer: Peer) -> None:
        peer.send(b"220 ready\r\n")
        peer.read_line()
        peer.send(b"421 Service not available, closing control connection.\r\n")
        peer.idle()

    result = probe(serve(busy).port, settings(), tls=TlsMode.NONE)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary == "FEAT answered 421 'Service not available, closing control connection.'"


# --- the command line ------------------------------------------------------------------------------


def test_ftp_check_command_with_tls_none_never_tries_auth_tls(cli, ftpd, ca, tmp_path):
    server = ftpd(TLS_FTPHandler, certfile=certfile(ca, tmp_path, "127.0.0.1"))
    outcome = cli.invoke(args=["check", "ftp", "--host", "127.0.0.1", "--port", str(server.port), "--tls", "none",
                               "--nagios"])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.startswith("FTP OK - FTP ok, AUTH TLS offered")
    assert "AUTH" not in server.commands


def test_ftp_check_command_refuses_a_login_without_tls_before_connecting(cli, ftpd):
    server = ftpd()
    outcome = cli.invoke(args=["check", "ftp", "--host", "127.0.0.1", "--port", str(server.port), "--tls", "none",
                               "-o", f"username={USER}", "-o", f"password={PASSWORD}", "--nagios"])
    assert outcome.exit_code == Status.UNKNOWN.value, outcome.output
    assert outcome.output.startswith("FTP UNKNOWN - a login test without TLS would send the password in the clear")
    assert server.commands == []
