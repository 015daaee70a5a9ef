"""Exact byte counts: a length prefix and its body, read within the deadline, bounded and in the transcript."""
from __future__ import annotations

from collections.abc import Callable

from ninerstatus.probing import ErrorKind, Status, Target, run_probe
from ninerstatus.probing.transcript import printable

from ..guide_examples import frame, read_frame
from .probes import frame_probe
from .servers import Peer

TIMEOUT = 0.5
#: The watchdog's grace in the stall tests: long, so that only the probe's own deadline ends them with its verdict.
PATIENT_GRACE = 30.0


def answering(data: bytes, *, then: str = "idle") -> Callable[[Peer], None]:
    """A script that reads the client's frame, sends ``data``, then idles or (``then="close"``) hangs up."""
    def script(peer: Peer) -> None:
        read_frame(peer)
        peer.send(data)
        if then == "idle":
            peer.idle()
    return script


def test_a_length_prefixed_reply_is_read_whole_and_recorded_with_binary_made_printable(serve):
    requests = []

    def answer(peer: Peer) -> None:
        requests.append(read_frame(peer))
        peer.send(frame(b"PONG \x00\xff\\ done"))
        peer.idle()

    server = serve(answer)
    result = run_probe(frame_probe, Target("127.0.0.1", server.port), {}, timeout=2)
    assert (result.status, result.summary) == (Status.OK, "13 bytes back"), result.summary
    assert requests == [b"PING"]
    assert result.transcript == ("C: [8 bytes] \\x00\\x00\\x00\\x04PING",
                                 "S: [4 bytes] \\x00\\x00\\x00\\r",
                                 "S: [13 bytes] PONG \\x00\\xff\\\\ done")
    assert list(result.timings) == ["resolve", "connect", "exchange", "total"]


def test_a_length_past_the_limit_is_refused_before_waiting_for_it(serve):
    server = serve(answering(b"\xff\xff\xff\xff"))
    result = run_probe(frame_probe, Target("127.0.0.1", server.port), {}, timeout=TIMEOUT)
    # PROTOCOL_ERROR, not READ_TIMEOUT: the probe did not wait for bytes it would never take.
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)
    assert result.summary == "refusing to read 4294967295 bytes: one read takes 0 to 65536 bytes"
    assert result.transcript[-1] == "S: [4 bytes] \\xff\\xff\\xff\\xff"


def test_a_server_that_sends_too_little_and_stalls_runs_into_the_deadline(serve):
    server = serve(answering(b"\x00\x00\x00\x0aPON"))
    result = run_probe(frame_probe, Target("127.0.0.1", server.port), {}, timeout=TIMEOUT, grace=PATIENT_GRACE)
    # The probe's own verdict: the watchdog's would be UNKNOWN.
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.READ_TIMEOUT)
    assert result.summary == f"timed out waiting for the server (limit {TIMEOUT} s)"
    assert result.transcript[-1] == "S: [4 bytes] \\x00\\x00\\x00\\n"
    assert result.timings.get("exchange") is not None


def test_a_server_that_drips_its_body_cannot_stretch_the_deadline(serve):
    def drip(peer: Peer) -> None:
        read_frame(peer)
        peer.send(b"\x00\x00\x10\x00")
        while not peer.stop.wait(0.05):  # each byte well within any per-read socket timeout
            peer.send(b"x")

    server = serve(drip)
    result = run_probe(frame_probe, Target("127.0.0.1", server.port), {}, timeout=TIMEOUT, grace=PATIENT_GRACE)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.READ_TIMEOUT)


def test_a_server_that_closes_mid_body_is_a_protocol_error(serve):
    server = serve(answering(b"\x00\x00\x00\x0aPON", then="close"))
    result = run_probe(frame_probe, Target("127.0.0.1", server.port), {}, timeout=2)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)
    assert result.summary == "the server closed the connection after 3 of 10 bytes"


def test_printable_escapes_what_is_not_printable_ascii_and_counts_what_it_leaves_out():
    assert printable(b"") == "[0 bytes]"
    assert printable(b" ") == "[1 byte]  "
    assert printable(b"a\\x\r\n\t\x7f\xc3\xa9") == "[9 bytes] a\\\\x\\r\\n\\t\\x7f\\xc3\\xa9"
    assert printable(b"y" * 300, limit=4) == "[300 bytes] yyyy … (296 more bytes)"
