"""Scripted servers for the probing tests: real sockets on loopback, one thread per connection.

A script is a function of a ``Peer``; it plays the server's side of one
connection (well-behaved or hostile) and may loop until ``peer.stop`` is set.
"""
from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable


class Peer:
    """The server's end of one connection, as handed to a script."""

    def __init__(self, conn: socket.socket, stop: threading.Event) -> None:
        self.conn = conn
        self.stop = stop

    def send(self, data: bytes) -> None:
        self.conn.sendall(data)

    def read_line(self) -> bytes:
        """Read one line byte by byte, so nothing after it is consumed (the client's TLS hello, say)."""
        line = bytearray()
        while not line.endswith(b"\n"):
            byte = self.conn.recv(1)
            if not byte:
                raise ConnectionError("client went away")
            line += byte
        return bytes(line).rstrip(b"\r\n")

    def start_tls(self, context: ssl.SSLContext) -> None:
        self.conn = context.wrap_socket(self.conn, server_side=True)

    def idle(self) -> None:
        """Say nothing until the test is over."""
        self.stop.wait(10)


Script = Callable[[Peer], None]


def closed_port(kind: socket.SocketKind = socket.SOCK_STREAM, host: str = "127.0.0.1") -> int:
    """A ``kind`` (TCP or UDP) port on ``host`` that nothing listens on: bound for a moment, then closed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LoopbackServer:
    """A TCP server on a loopback address that runs ``script`` for every connection.

    With ``tls`` every connection is wrapped (implicit TLS) before the script runs.
    """

    def __init__(self, script: Script, *, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.create_server((host, 0), family=family)
        self._listener.settimeout(0.05)
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._script = script
        self._tls = tls
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._accept_loop, daemon=True)]
        self._threads[0].start()

    def close(self) -> None:
        self.stop.set()
        for thread in list(self._threads):
            thread.join(timeout=3)
        self._listener.close()

    def _accept_loop(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        peer = Peer(conn, self.stop)
        try:
            if self._tls is not None:
                peer.start_tls(self._tls)
            self._script(peer)
        except (OSError, ssl.SSLError) as exc:  # hostile scripts die when the probe hangs up
            self.errors.append(exc)
        finally:
            peer.conn.close()

