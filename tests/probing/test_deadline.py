"""The total deadline, resolving and connecting under it, and the bounded deadline socket."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from ninerstatus.probing import Deadline, DeadlineExceeded, ErrorKind, Family, ProbeFailure
from ninerstatus.probing.deadline import DeadlineSocket, open_connection, open_datagram, resolve
from ninerstatus.probing.failure import failure_from_datagram_error, failure_from_os_error

from ..waiting import PATIENCE
from .servers import closed_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_counts_down_and_raises_when_spent():
    clock = FakeClock()
    deadline = Deadline(2.0, clock=clock)
    assert deadline.remaining() == 2.0
    clock.now += 1.5
    assert deadline.remaining() == 0.5 and not deadline.expired
    clock.now += 0.5
    assert deadline.expired
    with pytest.raises(DeadlineExceeded) as caught:
        deadline.remaining(ErrorKind.CONNECT_TIMEOUT)
    assert caught.value.kind is ErrorKind.CONNECT_TIMEOUT
    assert "limit 2 s" in caught.value.message


def test_deadline_exceeded_is_a_probe_failure_so_sessions_report_it():
    assert issubclass(DeadlineExceeded, ProbeFailure)
    assert Deadline(1.0).exceeded().kind is ErrorKind.READ_TIMEOUT


def test_deadline_needs_a_positive_budget():
    with pytest.raises(ValueError):
        Deadline(0)


def test_resolve_returns_addresses_of_the_requested_family():
    assert resolve("127.0.0.1", 25, Family.IPV4, Deadline(2)) == [(socket.AF_INET, ("127.0.0.1", 25))]


@pytest.mark.parametrize("host", ["127.0.0.1", "10.1.2.3", "::1"])
@pytest.mark.parametrize("family", [Family.ANY, Family.IPV4, Family.IPV6])
def test_an_address_resolves_as_getaddrinfo_reads_it(host, family):
    try:
        expected = [(info[0], info[4]) for info in socket.getaddrinfo(
            host, 25, family.socket_family, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST)]
    except socket.gaierror:
        with pytest.raises(ProbeFailure) as caught:
            resolve(host, 25, family, Deadline(2))
        assert caught.value.kind is ErrorKind.RESOLVE_FAILED
    else:
        assert resolve(host, 25, family, Deadline(2)) == expected


def test_resolve_failure_is_resolve_failed():
    with pytest.raises(ProbeFailure) as caught:
        resolve("127.0.0.1", 25, Family.IPV6, Deadline(2))  # a literal of the other family
    assert caught.value.kind is ErrorKind.RESOLVE_FAILED


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connect_to_a_closed_port_is_connect_refused():
    port = free_port()
    with pytest.raises(ProbeFailure) as caught:
        open_connection([(socket.AF_INET, ("127.0.0.1", port))], Deadline(2))
    assert caught.value.kind is ErrorKind.CONNECT_REFUSED
    assert f"127.0.0.1:{port}" in caught.value.message


def test_connect_tries_the_next_address_when_one_refuses():
    port = free_port()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        good = listener.getsockname()
        sock = open_connection([(socket.AF_INET, ("127.0.0.1", port)), (socket.AF_INET, good)], Deadline(2))
        with sock:
            assert sock.getpeername() == good


def test_a_connected_datagram_socket_hears_icmp_port_unreachable_as_a_refusal():
    port = closed_port(socket.SOCK_DGRAM)
    with open_datagram((socket.AF_INET, ("127.0.0.1", port))) as sock:
        sock.settimeout(30)  # the ICMP answer comes at once; only a broken socket would wait this out
        sock.send(b"anyone there?")
        with pytest.raises(ConnectionRefusedError) as refused:
            sock.recv(512)
    failure = failure_from_datagram_error(refused.value)
    assert failure.kind is ErrorKind.CONNECT_REFUSED
    assert failure.message == "nothing listens on that UDP port (ICMP port unreachable)"


def test_a_connected_datagram_socket_receives_only_from_its_peer():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        peer.bind(("127.0.0.1", 0))
        with open_datagram((socket.AF_INET, peer.getsockname())) as sock:
            stranger.sendto(b"injected", sock.getsockname())
            sock.send(b"question")
            _, client = peer.recvfrom(512)
            peer.sendto(b"answer", client)
            sock.settimeout(30)
            assert sock.recv(512) == b"answer"


def test_connect_that_hangs_is_connect_timeout_within_the_deadline():
    # A listener whose accept queue is full drops new SYNs, so connect() hangs.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        queued = []
        for _ in range(8):
            probe = socket.socket()
            probe.settimeout(0.2)
            try:
                probe.connect(listener.getsockname())
            except TimeoutError:
                probe.close()
                break
            queued.append(probe)
        else:
            pytest.skip("this kernel never lets an accept queue fill up")
        started = time.monotonic()
        try:
            with pytest.raises(ProbeFailure) as caught:
                open_connection([(socket.AF_INET, listener.getsockname())], Deadline(0.5))
        finally:
            for sock in queued:
                sock.close()
    assert caught.value.kind is ErrorKind.CONNECT_TIMEOUT
    assert time.monotonic() - started < PATIENCE / 2  # the kernel alone would retry its SYN for two minutes


@pytest.fixture
def pair():
    """A DeadlineSocket with a 1 s budget, and the raw socket at the other end."""
    ours, theirs = socket.socketpair()
    yield DeadlineSocket(ours, Deadline(1.0)), theirs
    ours.close()
    theirs.close()


def test_read_line_strips_crlf_or_lf(pair):
    stream, peer = pair
    peer.sendall(b"one\r\ntwo\nthree")
    assert (stream.read_line(100), stream.read_line(100)) == (b"one", b"two")


def test_read_line_refuses_an_endless_line(pair):
    stream, peer = pair
    peer.sendall(b"x" * 5000)
    with pytest.raises(ProbeFailure) as caught:
        stream.read_line(1000)
    assert caught.value.kind is ErrorKind.PROTOCOL_ERROR


def test_read_line_takes_a_line_of_exactly_max_len(pair):
    stream, peer = pair
    peer.sendall(b"y" * 100 + b"\r\n")
    assert stream.read_line(100) == b"y" * 100


def test_a_peer_dripping_bytes_cannot_outlast_the_deadline(pair):
    stream, peer = pair
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(0.1):  # well inside any per-read timeout
            peer.sendall(b"2")

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        with pytest.raises(ProbeFailure) as caught:
            stream.read_line(100_000)
    finally:
        stop.set()
        dripper.join()
    assert caught.value.kind is ErrorKind.READ_TIMEOUT  # only the deadline stops it: each read gets a byte


def test_read_exact_and_read_until_and_read_some(pair):
    stream, peer = pair
    peer.sendall(b"abcdef\r\n\r\nbody")
    assert stream.read_exact(3) == b"abc"
    assert stream.read_until(b"\r\n\r\n", 100) == b"def\r\n\r\n"
    peer.close()
    assert stream.read_some(2) == b"bo"
    assert stream.read_some(100) == b"dy"
    assert stream.read_some(100) == b""


def test_read_until_gives_up_after_max_bytes(pair):
    stream, peer = pair
    peer.sendall(b"0123456789" * 10 + b"\r\n\r\n")
    with pytest.raises(ProbeFailure, match="within 50 bytes"):
        stream.read_until(b"\r\n\r\n", 50)


def test_connection_closed_mid_line_is_a_protocol_error(pair):
    stream, peer = pair
    peer.sendall(b"220 half a li")
    peer.close()
    with pytest.raises(ProbeFailure) as caught:
        stream.read_line(100)
    assert caught.value.kind is ErrorKind.PROTOCOL_ERROR
    assert "closed" in caught.value.message


def test_read_exact_on_early_close_is_a_protocol_error(pair):
    stream, peer = pair
    peer.sendall(b"abc")
    peer.close()
    with pytest.raises(ProbeFailure, match="after 3 of 10 bytes"):
        stream.read_exact(10)


def test_discard_buffer_drops_unread_bytes(pair):
    stream, peer = pair
    peer.sendall(b"220 go ahead\r\n250 injected\r\n")
    assert stream.read_line(100) == b"220 go ahead"
    assert stream.discard_buffer() == b"250 injected\r\n"
    peer.sendall(b"250 real\r\n")
    assert stream.read_line(100) == b"250 real"


@pytest.mark.parametrize(("connecting", "kind", "summary"), [
    (True, ErrorKind.CONNECT_TIMEOUT, "timed out connecting (192.0.2.7:587)"),
    (False, ErrorKind.READ_TIMEOUT, "timed out waiting for the server (192.0.2.7:587)"),
])
def test_a_socket_timeout_says_what_timed_out_not_the_bare_error(connecting, kind, summary):
    failure = failure_from_os_error(TimeoutError("timed out"), connecting=connecting, where="192.0.2.7:587")
    assert (failure.kind, failure.message) == (kind, summary)
