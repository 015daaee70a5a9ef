"""Loopback services for the runner tests: one greets (or hangs up when "down"), one never answers; both count visits."""
from __future__ import annotations

import time

from ..probing.servers import LoopbackServer, Peer


class GreetingServer:
    """A TCP server on 127.0.0.1 that a "banner" check probes.

    Answering, it sends one greeting line (after ``delay`` seconds); down, it
    hangs up at once, which the probe reports as CRITICAL. ``visits`` holds
    the monotonic time of every connection.
    """

    def __init__(self, greeting: bytes = b"220 ready\r\n", delay: float = 0.0) -> None:
        self.greeting, self.delay = greeting, delay
        self.answering = True
        self.visits: list[float] = []
        self._server = LoopbackServer(self._greet)
        self.port = self._server.port

    def close(self) -> None:
        self._server.close()

    def _greet(self, peer: Peer) -> None:
        self.visits.append(time.monotonic())
        if self.answering:
            time.sleep(self.delay)
            peer.send(self.greeting)


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word until it is closed.

    A "banner" check of it waits for its timeout (or until ``close()``
    hangs up on it). ``visits`` holds the monotonic time of every connection.
    """

    def __init__(self) -> None:
        self.visits: list[float] = []
        self._server = LoopbackServer(self._hold)
        self.port = self._server.port

    def close(self) -> None:
        self._server.close()

    def _hold(self, peer: Peer) -> None:
        self.visits.append(time.monotonic())
        peer.stop.wait()
