"""Getting an OPTIONS request answered: over UDP with RFC 3261 retransmissions, or over a stream.

UDP has no connection, so a "connected" UDP socket proves nothing: only an
answer does. The request is retransmitted on timer E (T1 = 0.5 s, doubling,
capped at T2 = 4 s; every T2 once a provisional response came) until the
probe's deadline. The socket is connected all the same
(``deadline.open_datagram``), so the kernel delivers only the server's
datagrams and reports an ICMP "port unreachable" as a refused connection.

Whatever the transport, a message is the final answer only when it is a
response to our Call-ID and CSeq with a code of 200 or more; provisional
responses, stale responses and requests from the server are passed over.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ninerstatus import ErrorKind, ProbeFailure
from ninerstatus.probing import Deadline, DeadlineExceeded
from ninerstatus.probing.deadline import DeadlineSocket
from ninerstatus.probing.failure import failure_from_datagram_error
from ninerstatus.probing.transcript import Transcript

from ._sip_message import (OptionsRequest, SipMessage, check_head_size, datagram_head, parse_head,
                           parse_start_line)

#: RFC 3261 section 17.1.2.2 timers, in seconds.
T1 = 0.5
T2 = 4.0
#: A UDP payload cannot be larger; one byte more would mean the kernel cut it.
MAX_DATAGRAM = 65535
MAX_LINE = 4096
#: Empty lines tolerated before a message (RFC 5626 keep-alive "pongs").
MAX_BLANK_LINES = 32


@dataclass
class Exchange:
    """What waiting for the answer went through; kept even when it ends in a failure."""

    retransmissions: int = 0
    ignored: int = 0
    provisional: list[int] = field(default_factory=list)

    def is_final_answer(self, request: OptionsRequest, message: SipMessage, transcript: Transcript) -> bool:
        """True for our final response; counts and notes everything else."""
        if not request.answered_by(message):
            self.ignored += 1
            what = "a request" if message.code is None else "a response to another request"
            transcript.note(f"ignored {what}")
            return False
        if message.code < 200:
            self.provisional.append(message.code)
            return False
        return True


def exchange_udp(sock: socket.socket, request: OptionsRequest, deadline: Deadline, transcript: Transcript,
                 seen: Exchange) -> SipMessage:
    """Send ``request`` on the connected datagram ``sock`` until its final answer comes or time runs out."""
    data = request.encode()
    _record(transcript.client, request.lines())
    _send(sock, data, deadline)
    interval = T1
    resend_at = time.monotonic() + interval
    try:
        while True:
            now = time.monotonic()
            if now >= resend_at:
                _send(sock, data, deadline)
                seen.retransmissions += 1
                transcript.note(f"no answer in {interval:g} s: retransmitted")
                interval = T2 if seen.provisional else min(interval * 2, T2)
                resend_at = now + interval
                continue
            sock.settimeout(min(resend_at - now, deadline.remaining()))
            try:
                datagram = sock.recv(MAX_DATAGRAM + 1)
            except TimeoutError:
                continue
            except OSError as exc:
                raise failure_from_datagram_error(exc) from exc
            head = datagram_head(datagram)
            _record(transcript.server, head)
            message = parse_head(head)
            if seen.is_final_answer(request, message, transcript):
                return message
    except DeadlineExceeded as exceeded:
        raise ProbeFailure(ErrorKind.READ_TIMEOUT,
                           f"no answer over UDP within {deadline.seconds:g} s "
                           f"({seen.retransmissions} retransmissions)") from exceeded


def exchange_stream(stream: DeadlineSocket, request: OptionsRequest, transcript: Transcript,
                    seen: Exchange) -> SipMessage:
    """Send ``request`` over a TCP or TLS stream and read messages until its final answer."""
    _record(transcript.client, request.lines())
    stream.sendall(request.encode())
    while True:
        message = _read_stream_message(stream, transcript)
        if seen.is_final_answer(request, message, transcript):
            return message


def _read_stream_message(stream: DeadlineSocket, transcript: Transcript) -> SipMessage:
    """One whole message from a stream: head bounded line by line, then its body skipped."""
    blank = 0
    while not (line := _read_line(stream)):
        blank += 1
        if blank > MAX_BLANK_LINES:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"more than {MAX_BLANK_LINES} empty lines from the server")
    parse_start_line(line)  # fail at once on a peer that is not speaking SIP, before waiting for more
    lines, size = [line], len(line) + 2
    while line := _read_line(stream):
        lines.append(line)
        size += len(line) + 2
        check_head_size(len(lines), size)
    _record(transcript.server, lines)
    message = parse_head(lines)
    if message.content_length:
        stream.read_exact(message.content_length)
    return message


def _read_line(stream: DeadlineSocket) -> str:
    return stream.read_line(MAX_LINE).decode("utf-8", errors="replace")


def _send(sock: socket.socket, data: bytes, deadline: Deadline) -> None:
    sock.settimeout(deadline.remaining())
    try:
        sock.send(data)
    except OSError as exc:
        raise failure_from_datagram_error(exc) from exc


def _record(add: Callable[[str], None], lines: list[str]) -> None:
    for line in lines:
        add(line)
