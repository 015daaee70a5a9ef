"""The record of a conversation: ``C: ...`` / ``S: ...`` lines for staff to read.

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
