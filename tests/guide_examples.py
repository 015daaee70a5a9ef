"""The guide's example plugins, read from docs/plugins.md as a plugin author would copy them, and a toy server.

Tests load the examples exactly as printed, so an example that stops working
fails a test instead of tripping the next plugin author.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .probing.servers import LoopbackServer, Peer

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"

#: The first line of the guide's length-prefixed example, naming where it is saved.
FRAMES_EXAMPLE = "# instance/plugins/frames.py"

#: What the toy frames server greets with.
FRAMES_GREETING = b"FRAMES/1 toy server"


def guide_example(first_line: str) -> str:
    """The guide's Python block that starts with ``first_line``."""
    (block,) = [block for block in re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
                if block.startswith(first_line + "\n")]
    return block


def install_frames_example(folder: Path) -> Path:
    """Save the guide's frames plugin in ``folder`` (created), as the guide says to; return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "frames.py").write_text(guide_example(FRAMES_EXAMPLE))
    return folder


def frame(body: bytes) -> bytes:
    """``body`` with its 4-byte big-endian length in front."""
    return len(body).to_bytes(4, "big") + body


def read_frame(peer: Peer) -> bytes:
    """One frame from the client, read byte by byte."""
    received = b""
    while len(received) < 4 or len(received) < 4 + int.from_bytes(received[:4], "big"):
        byte = peer.conn.recv(1)
        if not byte:
            raise ConnectionError("client went away")
        received += byte
    return received[4:]


def frames_server(peer: Peer) -> None:
    """The toy protocol of the guide: greet with a frame, answer a PING frame with PONG."""
    peer.send(frame(FRAMES_GREETING))
    peer.send(frame(b"PONG" if read_frame(peer) == b"PING" else b"ERR what?"))
    peer.idle()


@pytest.fixture
def toy_frames_server() -> Iterator[LoopbackServer]:
    """The guide's toy frames server on 127.0.0.1 (import this fixture into a test module to use it)."""
    server = LoopbackServer(frames_server)
    yield server
    server.close()
