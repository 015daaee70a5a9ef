"""One total time budget per probe, and sockets that honour it.

A socket timeout is per call: a server that drips one byte per second resets
it forever. Here every probe gets one ``Deadline`` and every blocking step
(resolving, connecting, each read and write) is given only the time that is
*left*, so the probe ends on time whatever the peer does. Reads are bounded
too: a line longer than asked for is a protocol error, not a memory leak.
"""
from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from .failure import TIMEOUT_WORDING, ProbeFailure, failure_from_datagram_error, failure_from_os_error
from .result import ErrorKind
from .targets import Family
from .workers import WorkerCall, start_in_worker

#: (family, sockaddr) pairs as ``getaddrinfo`` returns them.
Address = tuple[socket.AddressFamily, Any]

_RECV_CHUNK = 4096

class DeadlineExceeded(ProbeFailure):
    """The probe's total time budget is spent."""


class Deadline:
    """A point in monotonic time by which the probe must be done.

    :param seconds: the budget, counted from construction.
    :param clock: a monotonic clock (injectable for tests).
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if seconds <= 0:
            raise ValueError(f"a deadline needs a positive budget, got {seconds!r}")
        self.seconds = seconds
        self._clock = clock
        self._ends = clock() + seconds

    def remaining(self, kind: ErrorKind = ErrorKind.READ_TIMEOUT) -> float:
        """Seconds left; raises ``DeadlineExceeded`` of ``kind`` when none are."""
        left = self._ends - self._clock()
        if left <= 0:
            raise self.exceeded(kind)
        return left

    @property
    def expired(self) -> bool:
        """True once the budget is spent."""
        return self._clock() >= self._ends

    def exceeded(self, kind: ErrorKind = ErrorKind.READ_TIMEOUT) -> DeadlineExceeded:
        """The exception for running out of time while doing ``kind`` of work."""
        return DeadlineExceeded(kind, f"{TIMEOUT_WORDING.get(kind, 'timed out')} "
                                      f"(limit {self.seconds:g} s)")


def resolve(host: str, port: int, family: Family, deadline: Deadline) -> list[Address]:
    """Return the TCP addresses of ``host`` in resolver order, within the deadline.

    ``getaddrinfo`` takes no timeout, so a name is looked up on a worker
    thread that is abandoned if the resolver hangs; an address needs no
    resolver and is read at once. Raises ``ProbeFailure(RESOLVE_FAILED)``.
    """
    if family is not Family.IPV6 and _is_ipv4(host):
        return [(socket.AF_INET, (host, port))]  # what getaddrinfo would say, without asking it
    if _is_address(host):
        found: list[Any] | OSError = _addresses(host, port, family, socket.AI_NUMERICHOST)
    else:
        lookup = WorkerCall(lambda: _addresses(host, port, family), f"resolve {host}")
        start_in_worker(lookup)
        if not lookup.done.wait(deadline.remaining(ErrorKind.RESOLVE_FAILED)):
            raise deadline.exceeded(ErrorKind.RESOLVE_FAILED)
        if lookup.error is not None:
            raise lookup.error
        found = lookup.result
    if isinstance(found, OSError):
        raise ProbeFailure(ErrorKind.RESOLVE_FAILED, f"could not resolve {host}: {found.strerror or found}")
    if not found:
        raise ProbeFailure(ErrorKind.RESOLVE_FAILED, f"{host} has no {family.value} address")
    return [(info[0], info[4]) for info in found]


def _is_ipv4(host: str) -> bool:
    """True for an IPv4 address in dotted quads (the common case of a check by address, told apart cheaply)."""
    try:
        socket.inet_pton(socket.AF_INET, host)
    except OSError:
        return False
    return True


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _addresses(host: str, port: int, family: Family, flags: int = 0) -> list[Any] | OSError:
    try:
        return socket.getaddrinfo(host, port, family.socket_family, socket.SOCK_STREAM, 0, flags)
    except OSError as exc:
        return exc


def open_connection(addresses: Sequence[Address], deadline: Deadline) -> socket.socket:
    """Connect to the first address that answers, within the deadline.

    Each address gets an equal share of the time left, so a black-holed IPv6
    address cannot eat the whole budget before IPv4 is tried. Raises
    ``ProbeFailure`` (CONNECT_REFUSED or CONNECT_TIMEOUT) for the last address tried.
    """
    last: ProbeFailure | None = None
    for index, (family, sockaddr) in enumerate(addresses):
        share = deadline.remaining(ErrorKind.CONNECT_TIMEOUT) / (len(addresses) - index)
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(share)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = failure_from_os_error(exc, connecting=True, where=_describe(sockaddr))
    if last is None:
        raise ValueError("no addresses to connect to")
    raise last


def open_datagram(address: Address) -> socket.socket:
    """A UDP socket connected to ``address`` (nothing is sent yet); the caller closes it.

    A connected datagram socket is what makes a closed port visible: the
    kernel then hands over only that peer's datagrams and reports the ICMP
    "port unreachable" it sends back as ``ConnectionRefusedError`` on the next
    send or receive, at once, where an unconnected socket would wait out the
    whole timeout. Translate such errors with ``failure_from_datagram_error``.
    """
    family, sockaddr = address
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.connect(sockaddr)
    except OSError as exc:  # e.g. no route to that network
        sock.close()
        raise failure_from_datagram_error(exc, connecting=True, where=_describe(sockaddr)) from exc
    return sock


def _describe(sockaddr: Any) -> str:
    host, port = sockaddr[0], sockaddr[1]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class DeadlineSocket:
    """A connected socket whose reads and writes all share one deadline.

    Reads are buffered; every wait is given ``deadline.remaining()``, never a
    fixed timeout. Failures come out as ``ProbeFailure``: READ_TIMEOUT when
    time runs out, PROTOCOL_ERROR for a closed connection or an over-long line.
    """

    def __init__(self, sock: socket.socket, deadline: Deadline) -> None:
        self.sock = sock
        self.deadline = deadline
        self._buffer = bytearray()

    def sendall(self, data: bytes) -> None:
        """Send all of ``data`` before the deadline."""
        # Since Python 3.5 a socket timeout bounds the whole sendall, not each chunk.
        self._io(self.sock.sendall, data)

    def read_some(self, max_bytes: int = _RECV_CHUNK) -> bytes:
        """Return up to ``max_bytes`` bytes (buffered first); b"" once the peer has closed."""
        if not self._buffer:
            self._fill()
        chunk = bytes(self._buffer[:max_bytes])
        del self._buffer[:max_bytes]
        return chunk

    def read_exact(self, count: int) -> bytes:
        """Return exactly ``count`` bytes; the caller bounds ``count``."""
        while len(self._buffer) < count:
            if not self._fill():
                raise self._closed(f"after {len(self._buffer)} of {count} bytes")
        chunk = bytes(self._buffer[:count])
        del self._buffer[:count]
        return chunk

    def read_until(self, delimiter: bytes, max_bytes: int) -> bytes:
        """Return the bytes up to and including ``delimiter``.

        Raises PROTOCOL_ERROR when ``max_bytes`` arrive without the delimiter:
        an endless line must not keep the probe reading.
        """
        searched = 0
        while True:
            found = self._buffer.find(delimiter, max(searched - len(delimiter) + 1, 0))
            if found != -1 and found + len(delimiter) <= max_bytes:
                end = found + len(delimiter)
                chunk = bytes(self._buffer[:end])
                del self._buffer[:end]
                return chunk
            if found != -1 or len(self._buffer) >= max_bytes:
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                                   f"no {delimiter!r} within {max_bytes} bytes from the server")
            searched = len(self._buffer)
            if not self._fill():
                raise self._closed("in the middle of a line" if self._buffer else "")

    def read_line(self, max_len: int) -> bytes:
        """Return one line without its CRLF or LF; PROTOCOL_ERROR past ``max_len`` bytes plus the line end."""
        line = self.read_until(b"\n", max_len + 2)
        return line[:-2] if line.endswith(b"\r\n") else line[:-1]

    def discard_buffer(self) -> bytes:
        """Drop and return whatever was received but not read yet.

        Called before a STARTTLS handshake: bytes that arrived in plaintext
        before the upgrade must never be read as if they came over TLS, or a
        man in the middle could inject replies (the CVE-2011-0411 class of bug).
        """
        stale = bytes(self._buffer)
        self._buffer.clear()
        return stale

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        self.sock.close()

    def _fill(self) -> int:
        """Receive once into the buffer; return the byte count, 0 at end of stream."""
        chunk = self._io(self.sock.recv, _RECV_CHUNK)
        self._buffer += chunk
        return len(chunk)

    def _io(self, operation: Callable[[Any], Any], argument: Any) -> Any:
        self.sock.settimeout(self.deadline.remaining())
        try:
            return operation(argument)
        except TimeoutError:
            raise self.deadline.exceeded() from None
        except OSError as exc:
            raise failure_from_os_error(exc) from exc

    @staticmethod
    def _closed(where: str) -> ProbeFailure:
        return ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                            " ".join(filter(None, ["the server closed the connection", where])))
