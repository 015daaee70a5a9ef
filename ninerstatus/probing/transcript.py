"""The record of a conversation: ``C: ...`` / ``S: ...`` lines for staff to read.

Binary data (a length prefix, a frame) is recorded as one line made
printable by ``printable``: ``S: [9 bytes] \\x00\\x00\\x00\\x05hello``.
Secrets never reach it: a line sent with a ``shown`` stand-in is recorded as
that stand-in, and every registered secret is masked in every line, in case a
server echoes it back. Lines are capped at 1 KB and their number is bounded,
so a chatty server cannot bloat the stored result.
"""
from __future__ import annotations

from collections.abc import Iterable

from .result import cap_text

MAX_LINES = 200
MASK = "***"

#: Bytes of binary data rendered in one transcript line; the rest are counted, not shown.
MAX_SHOWN_BYTES = 256

# Printable ASCII stands for itself; the backslash is doubled so an escape is never ambiguous.
_SHOWN_AS = {**{byte: f"\\x{byte:02x}" for byte in range(256)}, **{byte: chr(byte) for byte in range(0x20, 0x7F)},
             0x5C: "\\\\", 0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def printable(data: bytes, limit: int = MAX_SHOWN_BYTES) -> str:
    """``data`` as one readable line: its size, then the bytes with anything unprintable escaped.

    ``printable(b"\\x00\\x00\\x00\\x02hi")`` is ``[6 bytes] \\x00\\x00\\x00\\x02hi``;
    past ``limit`` bytes the rest is counted instead of shown.
    """
    size = f"[{len(data)} byte{'' if len(data) == 1 else 's'}]"
    if not data:
        return size
    shown = "".join(_SHOWN_AS[byte] for byte in data[:limit])
    rest = f" … ({len(data) - limit} more bytes)" if len(data) > limit else ""
    return f"{size} {shown}{rest}"


class Transcript:
    """An append-only list of transcript lines with secret masking."""

    def __init__(self, secrets: Iterable[str] = (), max_lines: int = MAX_LINES) -> None:
        self._secrets = {secret for secret in secrets if secret}
        self._lines: list[str] = []
        self._max_lines = max_lines
        self._dropped = 0

    def add_secret(self, secret: str) -> None:
        """Mask ``secret`` in every line recorded from now on."""
        if secret:
            self._secrets.add(secret)

    def client(self, text: str) -> None:
        """Record a line the probe sent."""
        self._add("C: ", text)

    def server(self, text: str) -> None:
        """Record a line the server sent."""
        self._add("S: ", text)

    def note(self, text: str) -> None:
        """Record an event that is not a line on the wire, e.g. a TLS handshake."""
        self._add("-- ", text)

    def mask(self, text: str) -> str:
        """Return ``text`` with every registered secret replaced by the mask."""
        if not self._secrets:  # most checks have none: every line of every probe passes here
            return text
        # Longest first, so a secret that contains another is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    @property
    def lines(self) -> tuple[str, ...]:
        """The lines so far, with a last line counting any that did not fit."""
        if self._dropped:
            return (*self._lines, f"-- {self._dropped} more lines not recorded")
        return tuple(self._lines)

    def _add(self, prefix: str, text: str) -> None:
        if len(self._lines) >= self._max_lines:
            self._dropped += 1
            return
        self._lines.append(cap_text(prefix + self.mask(text)))
