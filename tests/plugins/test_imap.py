"""The IMAP check against a scripted IMAP4rev1 server on loopback: STARTTLS, 993, login, refusals, hostile peers."""
from __future__ import annotations

import time
from typing import Any

import pytest

from ninerstatus.probing import ErrorKind, Status, TlsMode
from ninerstatus_plugins import imap

from ..probing.conftest import server_tls
from ..probing.test_hostile_peers import tls_hello_then_close
from ..waiting import PATIENCE
from .mailservers import (
    CERTIFICATES, HOSTILE_PEERS, HOSTILE_TIMEOUT, PASSWORD, USER, ImapBehaviour, Received, check, closed_port,
    dialogue, imap_server,
)

IMAP = imap.ninerstatus_check_types()[0]


def account(username: str = USER, password: str = PASSWORD) -> dict[str, Any]:
    """Settings with the test account, parsed as the core parses them."""
    return IMAP.parse_settings({"username": username, "password": password})


@pytest.fixture
def imapd(serve, ca):
    """Start a scripted IMAP server: ``imapd(log, implicit=False, **behaviour)`` returns it.

    Its STARTTLS (or, with ``implicit``, every connection) uses a certificate
    for 127.0.0.1 from the trusted CA with 62 days left.
    """
    def start(log: list[Received], *, implicit: bool = False, **behaviour: Any):
        context = server_tls(ca, "127.0.0.1", days=62.5)
        script = imap_server(ImapBehaviour(**behaviour), log, context)
        return serve(script, tls=context if implicit else None)

    return start


def sent(log: list[Received]) -> list[str]:
    return [entry.line for entry in log]


def test_imap_check_type_uses_starttls_on_143_and_implicit_tls_on_993():
    assert IMAP.default_port == 143
    assert [IMAP.default_tls(port) for port in (143, 993)] == [TlsMode.STARTTLS, TlsMode.IMPLICIT]


def test_imap_probe_upgrades_with_starttls_asks_again_and_logs_in(imapd, ca_file):
    log: list[Received] = []
    result = check(imap.probe, imapd(log).port, TlsMode.STARTTLS, account(), ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.OK, None), result.summary
    assert result.summary == "STARTTLS ok, certificate 62 days, login ok"
    assert {"STARTTLS", "LOGINDISABLED"} <= set(result.details["capabilities_before_tls"])
    assert not {"STARTTLS", "LOGINDISABLED"} & set(result.details["capabilities"])
    assert result.details["auth"] == ("PLAIN",) and result.details["preauth"] is False
    assert [(sub.name, sub.status) for sub in result.subchecks] == [("login", Status.OK), ("certificate", Status.OK)]
    assert result.timings.banner is not None and result.timings.starttls is not None
    assert sent(log) == ["a1 CAPABILITY", "a2 STARTTLS", "a3 CAPABILITY", f'a4 LOGIN "{USER}" "{PASSWORD}"',
                         "a5 LOGOUT"]
    assert [entry.over_tls for entry in log] == [False, False, True, True, True]
    assert 'C: a4 LOGIN "alice" ***' in result.transcript
    assert not any(PASSWORD in line for line in result.transcript)


def test_imap_probe_uses_the_capabilities_in_the_greeting(imapd, ca_file):
    log: list[Received] = []
    result = check(imap.probe, imapd(log, capability_in_greeting=True).port, TlsMode.STARTTLS, ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert sent(log) == ["a1 STARTTLS", "a2 CAPABILITY", "a3 LOGOUT"]
    assert "STARTTLS" in result.details["capabilities_before_tls"]


def test_imap_probe_speaks_implicit_tls_on_993(imapd, ca_file):
    log: list[Received] = []
    result = check(imap.probe, imapd(log, implicit=True, starttls=False, login_disabled_before_tls=False).port,
                   TlsMode.IMPLICIT, account(), ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.summary == "TLS ok, certificate 62 days, login ok"
    assert all(entry.over_tls for entry in log)
    assert result.timings.starttls is None


def test_imap_probe_without_tls_reports_starttls_on_offer_and_accepts_logindisabled(imapd):
    result = check(imap.probe, imapd([]).port)
    assert (result.status, result.summary) == (Status.OK, "IMAP ok, STARTTLS offered")
    assert "LOGINDISABLED" in result.details["capabilities"]


def test_imap_probe_reports_starttls_missing_and_never_sends_the_password(imapd):
    log: list[Received] = []
    result = check(imap.probe, imapd(log, starttls=False).port, TlsMode.STARTTLS, account())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary == "STARTTLS not offered"
    assert sent(log) == ["a1 CAPABILITY", "a2 LOGOUT"]


def test_imap_probe_reports_starttls_refused_and_never_sends_the_password(imapd):
    log: list[Received] = []
    result = check(imap.probe, imapd(log, refuse_starttls=True).port, TlsMode.STARTTLS, account())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary.startswith("STARTTLS refused: NO")
    assert sent(log) == ["a1 CAPABILITY", "a2 STARTTLS", "a3 LOGOUT"]
    assert not any(PASSWORD in entry.line for entry in log)


def test_imap_probe_warns_when_logindisabled_survives_tls_and_does_not_try_login(imapd, ca_file):
    log: list[Received] = []
    result = check(imap.probe, imapd(log, login_disabled_after_tls=True).port, TlsMode.STARTTLS, account(),
                   ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.WARNING, ErrorKind.EXPECTATION_FAILED)
    assert result.summary == "STARTTLS ok, certificate 62 days; LOGINDISABLED after TLS: users cannot log in"
    assert not any("LOGIN " in line for line in sent(log))
    assert sent(log)[-1] == "a4 LOGOUT"


def test_imap_probe_reports_a_refused_login_as_auth_failed_and_still_logs_out(imapd, ca_file):
    log: list[Received] = []
    server = imapd(log, echo_login=True)
    result = check(imap.probe, server.port, TlsMode.STARTTLS, account(password="wrong"), ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.AUTH_FAILED)
    assert result.summary == 'login as alice refused: [AUTHENTICATIONFAILED] ("alice" *** = ***)'
    assert result.transcript[-4] == 'S: a4 NO [AUTHENTICATIONFAILED] ("alice" *** = ***)'
    assert sent(log)[-1] == "a5 LOGOUT"
    assert not any("wrong" in line for line in result.transcript)


def test_imap_probe_masks_a_password_the_server_echoes(imapd, ca_file):
    password = 'quote"d \\pass'
    server = imapd([], echo_login=True, users={USER: password})
    result = check(imap.probe, server.port, TlsMode.STARTTLS, account(password=password), ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    echo = next(line for line in result.transcript if line.startswith("S: a4 OK Logged in"))
    assert echo == 'S: a4 OK Logged in ("alice" *** = ***)'


def test_imap_probe_refuses_a_login_test_without_tls_before_connecting(imapd):
    log: list[Received] = []
    result = check(imap.probe, imapd(log).port, TlsMode.NONE, account())
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)
    assert log == []
    half = check(imap.probe, imapd(log).port, TlsMode.STARTTLS, IMAP.parse_settings({"username": USER}))
    assert (half.status, half.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)


def test_imap_probe_reports_a_bye_greeting_as_unexpected_reply_and_sends_nothing(imapd):
    log: list[Received] = []
    result = check(imap.probe, imapd(log, greeting="BYE").port, TlsMode.STARTTLS)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.details["banner"].startswith("* BYE")
    assert log == [] and not any(line.startswith("C: ") for line in result.transcript)


def test_imap_probe_notes_a_preauth_greeting(imapd, ca_file):
    plain_log: list[Received] = []
    plain = check(imap.probe, imapd(plain_log, greeting="PREAUTH").port)
    assert (plain.status, plain.summary) == (Status.OK, "IMAP ok, STARTTLS offered, PREAUTH")
    assert plain.details["preauth"] is True
    # Already authenticated: no login is attempted, even with an account.
    implicit_log: list[Received] = []
    implicit = check(imap.probe, imapd(implicit_log, implicit=True, greeting="PREAUTH", starttls=False,
                                       login_disabled_before_tls=False).port,
                     TlsMode.IMPLICIT, account(), ca_file=ca_file)
    assert (implicit.status, implicit.summary) == (Status.OK, "TLS ok, certificate 62 days, PREAUTH")
    assert sent(implicit_log) == ["a1 CAPABILITY", "a2 LOGOUT"]


def test_imap_probe_cannot_upgrade_a_preauth_session(imapd):
    log: list[Received] = []
    result = check(imap.probe, imapd(log, greeting="PREAUTH").port, TlsMode.STARTTLS, account())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert "PREAUTH" in result.summary
    assert sent(log) == ["a1 CAPABILITY", "a2 LOGOUT"]


def test_imap_probe_refuses_a_huge_literal_at_once(imapd):
    started = time.monotonic()
    result = check(imap.probe, imapd([], huge_literal=True).port, timeout=PATIENCE)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)
    assert "999999999" in result.summary
    assert time.monotonic() - started < PATIENCE / 2  # not after reading the endless literal until the deadline


def test_imap_probe_reads_a_small_literal_whole(imapd):
    # The literal's bytes look like the end of the command; read as a line they would end it too early.
    chatter = b'* ID ("name" {12}\r\na1 OK fake\r\n)\r\n'
    result = check(imap.probe, imapd([], chatter=chatter).port)
    assert result.status is Status.OK, result.summary
    assert "-- literal of 12 bytes" in result.transcript
    assert "STARTTLS" in result.details["capabilities"]


@pytest.mark.parametrize(("reply", "kind"), [
    pytest.param(b"{tag} OK no capabilities for you\r\n", ErrorKind.PROTOCOL_ERROR, id="no-capability-response"),
    pytest.param(b"{tag} BAD unknown command\r\n", ErrorKind.UNEXPECTED_REPLY, id="capability-refused"),
    pytest.param(b"* OK still thinking\r\n" * 200, ErrorKind.PROTOCOL_ERROR, id="endless-untagged-responses"),
])
def test_imap_probe_reports_a_server_that_will_not_say_its_capabilities(serve, reply, kind):
    log: list[Received] = []
    server = serve(dialogue(b"* OK ready\r\n", {"CAPABILITY": reply, "LOGOUT": b"{tag} OK bye\r\n"}, log))
    result = check(imap.probe, server.port)
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


@pytest.mark.parametrize(("certificate", "status", "kind"), CERTIFICATES)
def test_imap_probe_judges_the_certificate_offered_after_starttls(serve, ca, stranger_ca, ca_file, certificate,
                                                                  status, kind):
    server = serve(imap_server(ImapBehaviour(), [], certificate(ca, stranger_ca)))
    result = check(imap.probe, server.port, TlsMode.STARTTLS, ca_file=ca_file)
    assert (result.status, result.error_kind) == (status, kind), result.summary
    assert result.tls is not None


def test_imap_probe_reports_a_closed_port_as_connect_refused():
    result = check(imap.probe, closed_port(), TlsMode.STARTTLS)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED)


@pytest.mark.parametrize(("script", "tls", "kind"), HOSTILE_PEERS)
def test_imap_probe_survives_hostile_peers_within_its_timeout(serve, script, tls, kind):
    result = check(imap.probe, serve(script).port, tls, timeout=HOSTILE_TIMEOUT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


def test_imap_probe_reports_a_connection_closed_in_the_starttls_handshake(serve, ca_file):
    server = serve(dialogue(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n", {"STARTTLS": b"{tag} OK go\r\n"},
                            [], after="STARTTLS", then=tls_hello_then_close))
    result = check(imap.probe, server.port, TlsMode.STARTTLS, account(), ca_file=ca_file, timeout=HOSTILE_TIMEOUT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.TLS_HANDSHAKE), result.summary
