"""Hostile peers: whatever the server does, a probe ends within its timeout plus a small grace.

run_probe's watchdog gives UNKNOWN to a probe still running after that; a probe's own
verdict (CRITICAL with the right error kind) shows it kept time, however busy the machine.
"""
from __future__ import annotations

import socket

import pytest

from ninerstatus.probing import ErrorKind, Status, Target, TlsMode, run_probe

from .probes import banner_probe
from .servers import Peer

TIMEOUT = 1.0


def silent(peer: Peer) -> None:
    peer.idle()


def drip(peer: Peer) -> None:
    # One byte at a time, far more often than any per-read timeout: only a total deadline stops it.
    while not peer.stop.wait(0.2):
        peer.send(b"2")


def endless_line(peer: Peer) -> None:
    while not peer.stop.is_set():
        peer.send(b"220 " + b"A" * 65536)


def garbage(peer: Peer) -> None:
    peer.send(b"\x16\x03\x01\x00\xff\xfe\x00garbage\r\n")
    peer.idle()


def closes_at_once(peer: Peer) -> None:
    peer.conn.close()


def tls_hello_then_close(peer: Peer) -> None:
    peer.conn.recv(4096)  # the client's hello
    peer.conn.close()


def tls_hello_then_plaintext(peer: Peer) -> None:
    peer.conn.recv(4096)
    peer.send(b"220 mail.example.test ESMTP\r\n")
    peer.idle()


@pytest.mark.parametrize(("script", "tls", "kind"), [
    pytest.param(silent, TlsMode.NONE, ErrorKind.READ_TIMEOUT, id="silent-after-accept"),
    pytest.param(drip, TlsMode.NONE, ErrorKind.READ_TIMEOUT, id="one-byte-drip"),
    pytest.param(endless_line, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="endless-line"),
    pytest.param(garbage, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="garbage"),
    pytest.param(closes_at_once, TlsMode.NONE, ErrorKind.PROTOCOL_ERROR, id="closes-at-once"),
    pytest.param(silent, TlsMode.IMPLICIT, ErrorKind.READ_TIMEOUT, id="silent-during-tls-handshake"),
    pytest.param(tls_hello_then_close, TlsMode.IMPLICIT, ErrorKind.TLS_HANDSHAKE, id="tls-closed-mid-handshake"),
    pytest.param(tls_hello_then_plaintext, TlsMode.IMPLICIT, ErrorKind.TLS_HANDSHAKE, id="plaintext-for-tls"),
])
def test_hostile_peer_gets_the_right_error_within_the_timeout(serve, script, tls, kind):
    server = serve(script)
    result = run_probe(banner_probe, Target("127.0.0.1", server.port, tls=tls), {}, timeout=TIMEOUT)
    # The probe's own verdict, so within its timeout and the watchdog's grace (the watchdog's would be UNKNOWN).
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary
    assert result.timings.connect is not None  # the failure still carries what was measured


def test_closed_port_is_connect_refused_quickly():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_probe(banner_probe, Target("127.0.0.1", port), {}, timeout=TIMEOUT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED)  # not a timeout
    assert result.timings.connect is not None
