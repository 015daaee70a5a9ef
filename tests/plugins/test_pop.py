"""The POP3 check against a scripted POP3 server on loopback: STLS, 995, login, refusals, hostile peers."""
from __future__ import annotations

from typing import Any

import pytest

from ninerstatus.probing import ErrorKind, Status, TlsMode
from ninerstatus_plugins import pop

from ..probing.conftest import server_tls
from ..probing.test_hostile_peers import tls_hello_then_close
from .mailservers import (
    CERTIFICATES, HOSTILE_PEERS, HOSTILE_TIMEOUT, PASSWORD, USER, PopBehaviour, Received, check, closed_port,
    dialogue, pop_server,
)

POP = pop.ninerstatus_check_types()[0]


def account(username: str = USER, password: str = PASSWORD) -> dict[str, Any]:
    """Settings with the test account, parsed as the core parses them."""
    return POP.parse_settings({"username": username, "password": password})


@pytest.fixture
def popd(serve, ca):
    """Start a scripted POP3 server: ``popd(log, implicit=False, **behaviour)`` returns it.

    Its STLS (or, with ``implicit``, every connection) uses a certificate for
    127.0.0.1 from the trusted CA with 62 days left.
    """
    def start(log: list[Received], *, implicit: bool = False, **behaviour: Any):
        context = server_tls(ca, "127.0.0.1", days=62.5)
        return serve(pop_server(PopBehaviour(**behaviour), log, context), tls=context if implicit else None)

    return start


def sent(log: list[Received]) -> list[str]:
    return [entry.line for entry in log]


def test_pop_check_type_uses_stls_on_110_and_implicit_tls_on_995():
    assert POP.default_port == 110
    assert [POP.default_tls(port) for port in (110, 995)] == [TlsMode.STARTTLS, TlsMode.IMPLICIT]


def test_pop_probe_upgrades_with_stls_asks_capa_again_and_logs_in(popd, ca_file):
    log: list[Received] = []
    result = check(pop.probe, popd(log).port, TlsMode.STARTTLS, account(), ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.OK, None), result.summary
    assert result.summary == "STLS ok, certificate 62 days, login ok"
    assert "STLS" in result.details["capabilities_before_tls"]
    assert "STLS" not in result.details["capabilities"]
    assert result.details["auth"] == ("PLAIN",) and result.details["banner"] == "pop.example.test ready"
    assert result.timings.banner is not None and result.timings.starttls is not None
    assert sent(log) == ["CAPA", "STLS", "CAPA", f"USER {USER}", f"PASS {PASSWORD}", "QUIT"]
    assert [entry.over_tls for entry in log] == [False, False, True, True, True, True]
    assert "C: PASS ***" in result.transcript
    assert not any(PASSWORD in line for line in result.transcript)


def test_pop_probe_speaks_implicit_tls_on_995(popd, ca_file):
    log: list[Received] = []
    result = check(pop.probe, popd(log, implicit=True, stls=False).port, TlsMode.IMPLICIT, account(),
                   ca_file=ca_file)
    assert (result.status, result.summary) == (Status.OK, "TLS ok, certificate 62 days, login ok")
    assert all(entry.over_tls for entry in log)


def test_pop_probe_without_tls_reports_stls_on_offer(popd):
    offered = check(pop.probe, popd([]).port)
    assert (offered.status, offered.summary) == (Status.OK, "POP3 ok, STLS offered")
    missing = check(pop.probe, popd([], stls=False).port)
    assert (missing.status, missing.summary) == (Status.OK, "POP3 ok, no STLS")


def test_pop_probe_reports_stls_missing_and_never_sends_the_password(popd):
    log: list[Received] = []
    result = check(pop.probe, popd(log, stls=False).port, TlsMode.STARTTLS, account())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary == "STLS not offered"
    assert sent(log) == ["CAPA", "QUIT"]


def test_pop_probe_reports_stls_refused_and_never_sends_the_password(popd):
    log: list[Received] = []
    result = check(pop.probe, popd(log, refuse_stls=True).port, TlsMode.STARTTLS, account())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.STARTTLS_UNAVAILABLE)
    assert result.summary == "STLS refused: -ERR Unknown command"
    assert sent(log) == ["CAPA", "STLS", "QUIT"]


def test_pop_probe_tries_stls_on_a_server_without_capa(popd, ca_file):
    log: list[Received] = []
    result = check(pop.probe, popd(log, capa=False).port, TlsMode.STARTTLS, account(), ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.details["capa_supported"] is False
    assert sent(log)[:3] == ["CAPA", "STLS", "CAPA"]


def test_pop_probe_reports_a_refused_login_as_auth_failed_and_still_quits(popd, ca_file):
    log: list[Received] = []
    server = popd(log, echo_login=True)
    result = check(pop.probe, server.port, TlsMode.STARTTLS, account(password="wrong pass"), ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.AUTH_FAILED)
    assert result.summary == "login as alice refused: -ERR [AUTH] Authentication failed. (***)"
    assert sent(log)[-1] == "QUIT"
    assert not any("wrong pass" in line for line in result.transcript)


def test_pop_probe_refuses_a_login_test_without_tls_before_connecting(popd):
    log: list[Received] = []
    result = check(pop.probe, popd(log).port, TlsMode.NONE, account())
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)
    assert log == []


def test_pop_probe_reports_an_err_greeting_as_unexpected_reply(popd):
    log: list[Received] = []
    result = check(pop.probe, popd(log, greeting_ok=False).port, TlsMode.STARTTLS, account())
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary == "server refuses service: -ERR go away"
    assert sent(log) == ["QUIT"]


def test_pop_probe_bounds_an_endless_capa_list(serve):
    server = serve(dialogue(b"+OK ready\r\n", {"CAPA": b"+OK here\r\n" + b"TOP\r\n" * 500, "QUIT": b"+OK\r\n"}, []))
    result = check(pop.probe, server.port)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)
    assert "longer than" in result.summary


@pytest.mark.parametrize(("certificate", "status", "kind"), CERTIFICATES)
def test_pop_probe_judges_the_certificate_offered_after_stls(serve, ca, stranger_ca, ca_file, certificate,
                                                             status, kind):
    server = serve(pop_server(PopBehaviour(), [], certificate(ca, stranger_ca)))
    result = check(pop.probe, server.port, TlsMode.STARTTLS, ca_file=ca_file)
    assert (result.status, result.error_kind) == (status, kind), result.summary
    assert result.tls is not None


def test_pop_probe_reports_a_closed_port_as_connect_refused():
    result = check(pop.probe, closed_port(), TlsMode.IMPLICIT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED)


@pytest.mark.parametrize(("script", "tls", "kind"), HOSTILE_PEERS)
def test_pop_probe_survives_hostile_peers_within_its_timeout(serve, script, tls, kind):
    result = check(pop.probe, serve(script).port, tls, timeout=HOSTILE_TIMEOUT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


def test_pop_probe_reports_a_connection_closed_in_the_stls_handshake(serve, ca_file):
    server = serve(dialogue(b"+OK ready\r\n", {"CAPA": b"+OK\r\nSTLS\r\n.\r\n", "STLS": b"+OK go\r\n"}, [],
                            after="STLS", then=tls_hello_then_close))
    result = check(pop.probe, server.port, TlsMode.STARTTLS, account(), ca_file=ca_file, timeout=HOSTILE_TIMEOUT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.TLS_HANDSHAKE), result.summary
