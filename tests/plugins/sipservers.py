"""Small SIP responders for the SIP check's tests: UDP, TCP and TLS on loopback, one thread each.

A ``SipResponder`` answers every OPTIONS it gets with the status codes in
``replies`` (in order, e.g. ``(100, 200)``), echoing Via, From, To, Call-ID
and CSeq as RFC 3261 section 8.2.6 asks. It can misbehave on purpose: send a
stale response (another Call-ID, then another CSeq) first, drop the first N
UDP requests, stay silent, or answer with garbage. Every request it received
is kept, raw, for the tests to inspect.
"""
from __future__ import annotations

import socket
import ssl
import threading

REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 500: "Server Internal Error", 503: "Service Unavailable"}
SERVER = "loopback-sip/1.0"
ALLOW = "INVITE, ACK, CANCEL, OPTIONS, BYE"
SDP = b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\n"


def headers_of(request: bytes) -> dict[str, str]:
    """The request's headers by lower-cased name (first value wins)."""
    found: dict[str, str] = {}
    for line in request.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]:
        name, _, value = line.partition(":")
        found.setdefault(name.strip().lower(), value.strip())
    return found


def response(request: bytes, code: int, *, call_id: str | None = None, cseq: str | None = None,
             body: bytes = b"") -> bytes:
    """A response to ``request``; ``call_id`` or ``cseq`` override the echoed ones (stale responses)."""
    headers = headers_of(request)
    to = headers["to"] if code == 100 else f"{headers['to']};tag=responder"
    lines = [f"SIP/2.0 {code} {REASONS.get(code, 'Whatever')}", f"Via: {headers['via']};received=127.0.0.1",
             f"From: {headers['from']}", f"To: {to}", f"Call-ID: {call_id or headers['call-id']}",
             f"CSeq: {cseq or headers['cseq']}", f"Server: {SERVER}", f"Allow: {ALLOW}",
             "Content-Type: application/sdp" if body else "Accept: application/sdp",
             f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class SipResponder:
    """A SIP server on a loopback address.

    :param transport: "udp", "tcp" or "tls" (``tls`` then holds the server context).
    :param replies: status codes sent, in order, for each request answered.
    :param stale_first: send two responses that are not ours before the real ones.
    :param drop: UDP requests to ignore before answering (to prove retransmission).
    :param behaviour: "answer", "silent" or "garbage".
    :param body: a body sent with the final response (streams must skip it by Content-Length).
    """

    def __init__(self, transport: str = "udp", *, replies: tuple[int, ...] = (200,), stale_first: bool = False,
                 drop: int = 0, behaviour: str = "answer", body: bytes = b"", tls: ssl.SSLContext | None = None,
                 host: str = "127.0.0.1") -> None:
        self.transport = transport
        self.replies = replies
        self.stale_first = stale_first
        self.drop = drop
        self.behaviour = behaviour
        self.body = body
        self.tls = tls
        self.requests: list[bytes] = []
        self.stop = threading.Event()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        if transport == "udp":
            self.sock = socket.socket(family, socket.SOCK_DGRAM)
            self.sock.bind((host, 0))
        else:
            self.sock = socket.create_server((host, 0), family=family)
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self._threads = [threading.Thread(target=self._serve_udp if transport == "udp" else self._accept,
                                          daemon=True)]
        self._threads[0].start()

    def close(self) -> None:
        self.stop.set()
        for thread in list(self._threads):
            thread.join(3)
        self.sock.close()

    def answers(self, request: bytes) -> list[bytes]:
        """What to send back for ``request``, in order."""
        self.requests.append(request)
        if self.behaviour == "silent":
            return []
        if self.behaviour == "garbage":
            return [b"\x00\xff\xfe this is no SIP at all\r\n\r\n"]
        sent = []
        if self.stale_first:
            cseq_number = int(headers_of(request)["cseq"].split()[0])
            sent += [response(request, 200, call_id="stale-call@elsewhere"),
                     response(request, 200, cseq=f"{cseq_number - 1} OPTIONS")]
        final = len(self.replies) - 1
        sent += [response(request, code, body=self.body if index == final else b"")
                 for index, code in enumerate(self.replies)]
        return sent

    def _serve_udp(self) -> None:
        seen = 0
        while not self.stop.is_set():
            try:
                request, client = self.sock.recvfrom(65535)
            except (TimeoutError, OSError):
                continue
            seen += 1
            if seen <= self.drop:
                self.requests.append(request)
                continue
            for datagram in self.answers(request):
                self.sock.sendto(datagram, client)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            thread = threading.Thread(target=self._serve_stream, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve_stream(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            buffer = b""
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffer += chunk
            request = buffer.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            for message in self.answers(request):
                conn.sendall(message)
            self.stop.wait(5)  # keep the connection open: the probe hangs up, as SIP clients do
        except (OSError, ssl.SSLError):
            pass  # the probe went away (e.g. refused our certificate)
        finally:
            conn.close()
