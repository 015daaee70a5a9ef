"""The SIP check against small SIP responders on loopback (UDP, TCP, TLS) and hostile peers."""
from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ninerstatus import create_app
from ninerstatus.checktypes import CheckTypeError
from ninerstatus.probing import ErrorKind, Status, Target, TlsMode, TlsPolicy, run_probe
from ninerstatus_plugins import sip

from ..probing.conftest import server_tls
from ..probing.servers import closed_port
from ..probing.test_hostile_peers import drip, endless_line, garbage, silent, tls_hello_then_close
from .sipservers import ALLOW, SDP, SERVER, SipResponder, headers_of

SIP = sip.ninerstatus_check_types()[0]
TIMEOUT = 1.0


def settings(**raw: str) -> dict[str, Any]:
    """The check's settings as the core passes them: parsed from text, defaults filled in."""
    return SIP.parse_settings(raw)


@pytest.fixture
def responder() -> Iterator[Any]:
    """``responder(transport, **behaviour)`` starts a ``SipResponder`` and returns it."""
    started: list[SipResponder] = []

    def start(transport: str = "udp", **behaviour: Any) -> SipResponder:
        server = SipResponder(transport, **behaviour)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def probe(port: int, transport: str, *, timeout: float = TIMEOUT, ca_file: str | None = None,
          tls: TlsMode | None = None, host: str = "127.0.0.1", **raw: str):
    """Probe with ``transport`` and, unless told otherwise, the TLS mode that agrees with it."""
    policy = TlsPolicy(ca_file=ca_file) if ca_file else TlsPolicy()
    if tls is None:
        tls = TlsMode.IMPLICIT if transport == "tls" else TlsMode.NONE
    return run_probe(SIP.probe, Target(host, port, tls=tls), settings(transport=transport, **raw), timeout,
                     tls_policy=policy)


# --- the request -------------------------------------------------------------------------------------


def test_sip_probe_sends_a_well_formed_options_request(responder):
    server = responder("udp")
    result = probe(server.port, "udp")
    assert result.status is Status.OK, result.summary
    (request,) = server.requests
    start, _, rest = request.partition(b"\r\n")
    assert start == f"OPTIONS sip:127.0.0.1:{server.port} SIP/2.0".encode()
    assert request.endswith(b"\r\n\r\n")
    headers = headers_of(request)
    assert re.fullmatch(r"SIP/2\.0/UDP 127\.0\.0\.1:\d+;branch=z9hG4bK[0-9a-f]+;rport", headers["via"])
    assert headers["max-forwards"] == "70" and headers["content-length"] == "0"
    assert re.fullmatch(r"<sip:ninerstatus@127\.0\.0\.1>;tag=[0-9a-f]{16}", headers["from"])
    assert headers["to"] == f"<sip:127.0.0.1:{server.port}>"
    assert re.fullmatch(r"\d+ OPTIONS", headers["cseq"])
    assert headers["call-id"]


def test_sip_probe_uses_fresh_identifiers_for_every_probe(responder):
    server = responder("udp")
    for _ in range(3):
        assert probe(server.port, "udp").status is Status.OK
    seen = [headers_of(request) for request in server.requests]
    for name in ("call-id", "via", "from", "cseq"):
        assert len({headers[name] for headers in seen}) == 3, name


def test_sip_probe_sends_the_configured_uri(responder):
    server = responder("tcp")
    probe(server.port, "tcp", uri="sip:ping@pbx.example.test")
    assert server.requests[0].startswith(b"OPTIONS sip:ping@pbx.example.test SIP/2.0\r\n")
    assert headers_of(server.requests[0])["via"].startswith("SIP/2.0/TCP ")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sip_probe_brackets_ipv6_addresses(responder, transport):
    try:
        server = responder(transport, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    result = probe(server.port, transport, host="::1")
    assert result.status is Status.OK, result.summary
    assert server.requests[0].startswith(f"OPTIONS sip:[::1]:{server.port} SIP/2.0\r\n".encode())
    assert re.match(r"SIP/2\.0/(UDP|TCP) \[::1\]:\d+;branch=", headers_of(server.requests[0])["via"])


def test_sip_default_uri_leaves_out_the_usual_port():
    assert sip.default_uri("pbx.example.test", 5060, 5060) == "sip:pbx.example.test"
    assert sip.default_uri("::1", 5070, 5060) == "sip:[::1]:5070"


@pytest.mark.parametrize(("raw", "problem"), [
    ({"uri": "http://pbx.example.test"}, "sip: or sips: URI"),
    ({"uri": "sip:a b"}, "sip: or sips: URI"),
    ({"uri": "sip:pbx\r\nVia: evil"}, "sip: or sips: URI"),
    ({"alive_codes": "401,abc"}, "'abc' is not a SIP status code"),
    ({"alive_codes": "180"}, "'180' is not a SIP status code"),
    ({"transport": "sctp"}, "transport"),
])
def test_sip_settings_are_validated(raw, problem):
    with pytest.raises(CheckTypeError, match=problem):
        settings(**raw)


# --- answers and how they are judged ----------------------------------------------------------------


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sip_probe_reports_ok_with_the_servers_details(responder, transport):
    server = responder(transport, body=SDP)
    result = probe(server.port, transport)
    assert (result.status, result.error_kind) == (Status.OK, None)
    assert re.fullmatch(r"OPTIONS 200 in [\d.]+ ms", result.summary)
    assert result.details["status"] == 200 and result.details["reason"] == "OK"
    assert result.details["server"] == SERVER and result.details["allow"] == ALLOW
    assert result.details["transport"] == transport and result.details["retransmissions"] == 0
    assert result.timings.first_byte is not None


def test_sip_probe_speaks_tls_and_checks_the_certificate(responder, ca, ca_file):
    server = responder("tls", tls=server_tls(ca, "127.0.0.1", days=62.5))
    result = probe(server.port, "auto", tls=TlsMode.IMPLICIT, ca_file=ca_file)
    assert result.status is Status.OK, result.summary
    assert result.details["transport"] == "tls" and result.tls is not None and result.tls.verified
    assert result.metrics["cert_days_left"] == 62
    assert headers_of(server.requests[0])["via"].startswith("SIP/2.0/TLS ")


@pytest.mark.parametrize(("trusted", "names", "kind"), [
    pytest.param(False, ("127.0.0.1",), ErrorKind.CERT_UNTRUSTED, id="unknown-ca"),
    pytest.param(True, ("pbx.other.test",), ErrorKind.CERT_HOSTNAME, id="wrong-name"),
])
def test_sip_probe_over_tls_reports_certificate_trouble(responder, ca, stranger_ca, ca_file, trusted, names, kind):
    server = responder("tls", tls=server_tls(ca if trusted else stranger_ca, *names))
    result = probe(server.port, "tls", ca_file=ca_file)
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind)
    assert server.requests == []  # nothing is said over a connection we do not trust


def test_sip_probe_refuses_starttls_which_sip_does_not_have():
    result = probe(5060, "auto", tls=TlsMode.STARTTLS)
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)


def test_sip_check_type_uses_tls_on_5061():
    assert SIP.default_tls(5061) is TlsMode.IMPLICIT and SIP.default_tls(5060) is TlsMode.NONE
    assert SIP.transports == ("udp", "tcp", "tls") and SIP.default_port == 5060


@pytest.mark.parametrize(("code", "status", "kind"), [
    (200, Status.OK, None),
    (401, Status.OK, None),
    (403, Status.OK, None),
    (404, Status.OK, None),
    (405, Status.OK, None),
    (503, Status.WARNING, ErrorKind.UNEXPECTED_REPLY),
    (500, Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY),
])
def test_sip_probe_maps_status_codes(responder, code, status, kind):
    server = responder("udp", replies=(code,))
    result = probe(server.port, "udp")
    assert (result.status, result.error_kind) == (status, kind), result.summary
    assert result.details["status"] == code


def test_sip_alive_codes_are_configurable(responder):
    server = responder("udp", replies=(404,))
    result = probe(server.port, "udp", alive_codes="401")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary.startswith("OPTIONS 404 'Not Found' in ")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sip_probe_skips_provisional_responses(responder, transport):
    server = responder(transport, replies=(100, 180, 200))
    result = probe(server.port, transport)
    assert result.status is Status.OK and result.details["status"] == 200
    assert result.details["provisional"] == (100, 180)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sip_probe_ignores_responses_that_are_not_its_own(responder, transport):
    # The stale responses say 200; taking either for ours would hide the real 500.
    server = responder(transport, stale_first=True, replies=(500,))
    result = probe(server.port, transport)
    assert result.details["status"] == 500 and result.details["ignored"] == 2
    assert result.status is Status.CRITICAL


# --- UDP: retransmission and silence -----------------------------------------------------------------


def test_sip_probe_retransmits_over_udp_on_timer_e(responder):
    server = responder("udp", drop=2)
    started = time.monotonic()
    result = probe(server.port, "udp", timeout=3.0)
    elapsed = time.monotonic() - started
    assert result.status is Status.OK, result.summary
    assert result.details["retransmissions"] == 2 and result.metrics["retransmissions"] == 2
    assert result.summary.endswith("(2 retransmissions)")
    assert len(set(server.requests)) == 1 and len(server.requests) == 3  # the same request, sent again
    assert elapsed >= 1.5  # T1 = 0.5 s, then 1 s: the third copy goes out at 1.5 s, not sooner


def test_sip_probe_reports_a_silent_udp_server_as_down(responder):
    server = responder("udp", behaviour="silent")
    result = probe(server.port, "udp")
    # The probe's own verdict at its deadline (the watchdog's would be UNKNOWN).
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.READ_TIMEOUT)
    assert result.summary == "no answer over UDP within 1 s (1 retransmissions)"


def test_sip_probe_reports_a_closed_udp_port_as_refused():
    # 30 s: the ICMP answer comes at once; a probe deaf to it would end with READ_TIMEOUT instead.
    result = probe(closed_port(socket.SOCK_DGRAM), "udp", timeout=30)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED), result.summary
    assert result.summary == "nothing listens on that UDP port (ICMP port unreachable)"


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_sip_probe_reports_garbage_as_a_protocol_error(responder, transport):
    server = responder(transport, behaviour="garbage")
    result = probe(server.port, transport)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)
    assert result.summary.startswith("not a SIP message")


# --- hostile stream peers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("script", "transport", "kind"), [
    pytest.param(silent, "tcp", ErrorKind.READ_TIMEOUT, id="silent"),
    pytest.param(drip, "tcp", ErrorKind.READ_TIMEOUT, id="drip"),
    pytest.param(endless_line, "tcp", ErrorKind.PROTOCOL_ERROR, id="endless-line"),
    pytest.param(garbage, "tcp", ErrorKind.PROTOCOL_ERROR, id="garbage"),
    pytest.param(silent, "tls", ErrorKind.READ_TIMEOUT, id="tls-silent"),
    pytest.param(tls_hello_then_close, "tls", ErrorKind.TLS_HANDSHAKE, id="tls-closed-mid-handshake"),
])
def test_sip_probe_survives_hostile_peers_within_its_timeout(serve, script, transport, kind):
    server = serve(script)
    result = probe(server.port, transport)
    # The probe's own verdict, so within its timeout and the watchdog's grace (the watchdog's would be UNKNOWN).
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


def test_sip_probe_refuses_a_body_larger_than_its_bound(serve):
    def huge_body(peer):
        peer.read_line()
        peer.send(b"SIP/2.0 200 OK\r\nContent-Length: 99999999\r\n\r\n")
        peer.idle()

    result = probe(serve(huge_body).port, "tcp")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)


# --- the command line --------------------------------------------------------------------------------


def test_sip_check_command_prints_one_nagios_line(responder, tmp_path):
    server = responder("udp")
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"})
    outcome = app.test_cli_runner().invoke(args=["check", "sip", "--host", "127.0.0.1", "--port", str(server.port),
                                                 "-o", "transport=udp", "--nagios"])
    assert outcome.exit_code == 0, outcome.output
    (line,) = outcome.output.splitlines()
    assert re.match(r"SIP OK - OPTIONS 200 in [\d.]+ ms \| 'time_resolve'=", line)
    assert "'retransmissions'=0;;;;" in line
