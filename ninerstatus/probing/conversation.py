"""One conversation helper for the text protocols (SMTP, IMAP, POP3, FTP) and framed binary ones.

A ``Conversation`` sits on a ``DeadlineSocket``: it sends commands, reads
lines and whole replies (bounded in line length, line count and size), sends
and reads exact byte counts (a length prefix, then that many bytes), keeps
the transcript, and upgrades to TLS. Protocol plugins use it instead of
``smtplib`` and friends because those cannot bound a reply, time the phases,
or report what the server said when things go wrong.

Read the whole reply before speaking: SMTP greetings and EHLO replies are
multi-line, and a client that talks before the final ``220 `` line is
rejected by postscreen-style defences.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from .deadline import DeadlineSocket
from .failure import ProbeFailure
from .result import ErrorKind, Status, TlsInfo
from .tls import TlsPolicy, handshake
from .transcript import Transcript, printable

MAX_LINE = 4096
MAX_REPLY_LINES = 100
MAX_REPLY_BYTES = 64 * 1024

# "250-text" continues a reply, "250 text" or a bare "250" ends it (RFC 5321 section 4.2).
_REPLY_LINE = re.compile(r"(\d{3})(?:([ -])(.*))?")


@dataclass(frozen=True)
class Reply:
    """A numbered SMTP/FTP reply: its code and the text of each line (code and separator removed)."""

    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """All lines joined by newlines."""
        return "\n".join(self.lines)

    def expect(self, *codes: int) -> Reply:
        """Return self if the code is one of ``codes``; else fail with UNEXPECTED_REPLY."""
        if self.code not in codes:
            wanted = "/".join(str(code) for code in codes)
            raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY,
                               f"expected {wanted}, got {self.code} {_excerpt(self.lines[0])}")
        return self


class Conversation:
    """Talk with one server, in lines or exact byte counts, over a deadline-bound socket.

    :param stream: the connected socket.
    :param transcript: where lines are recorded (shared with the session).
    :param max_line: longest line accepted from the server, in bytes.
    :param max_reply_lines: most lines in one multi-line reply.
    :param max_reply_bytes: most bytes in one multi-line reply or one ``read_exact``.
    """

    def __init__(self, stream: DeadlineSocket, transcript: Transcript | None = None, *,
                 max_line: int = MAX_LINE, max_reply_lines: int = MAX_REPLY_LINES,
                 max_reply_bytes: int = MAX_REPLY_BYTES) -> None:
        self._stream = stream
        self.transcript = transcript if transcript is not None else Transcript()
        self.max_line = max_line
        self.max_reply_lines = max_reply_lines
        self.max_reply_bytes = max_reply_bytes

    @property
    def stream(self) -> DeadlineSocket:
        """The current socket; a new one after ``starttls``. Reads and writes through it are not recorded."""
        return self._stream

    def send(self, line: str, *, shown: str | None = None) -> None:
        """Send ``line`` with CRLF; the transcript records ``shown`` instead when given.

        Pass ``shown`` for anything that carries a credential, e.g.
        ``send(f"AUTH PLAIN {blob}", shown="AUTH PLAIN ***")``.
        """
        if "\r" in line or "\n" in line:
            # A line break would smuggle a second command in (often from a setting).
            raise ProbeFailure(ErrorKind.CONFIG_ERROR, "refusing to send a command containing a line break",
                               Status.UNKNOWN)
        self.transcript.client(line if shown is None else shown)
        self._stream.sendall(line.encode("utf-8") + b"\r\n")

    def send_bytes(self, data: bytes, *, shown: str | None = None) -> None:
        """Send ``data`` as it is (no line end added); the transcript records ``shown`` instead when given.

        For binary protocols: a frame, a length prefix. The transcript shows
        the bytes as ``[n bytes] ...`` with anything unprintable escaped.
        """
        self.transcript.client(printable(data) if shown is None else shown)
        self._stream.sendall(data)

    def read_exact(self, count: int) -> bytes:
        """Read exactly ``count`` bytes, e.g. the body after a length prefix, and record them.

        ``count`` must lie between 0 and ``max_reply_bytes``: a length that came
        from the server is checked here before anything is read, so a peer
        announcing four gigabytes fails with PROTOCOL_ERROR instead of making
        the probe wait for them. A server that closes early is a
        PROTOCOL_ERROR; one that stalls runs into the deadline (READ_TIMEOUT).
        """
        if not 0 <= count <= self.max_reply_bytes:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                               f"refusing to read {count} bytes: one read takes 0 to {self.max_reply_bytes} bytes")
        data = self._stream.read_exact(count)
        self.transcript.server(printable(data))
        return data

    def read_line(self) -> str:
        """Read one line from the server (without its line end)."""
        line = self._stream.read_line(self.max_line).decode("utf-8", errors="replace")
        self.transcript.server(line)
        return line

    def read_reply(self, *, strict: bool = True) -> Reply:
        """Read a whole SMTP/FTP reply: ``250-...`` lines up to the ``250 `` line.

        ``strict`` (SMTP) requires every line to carry the same code. FTP
        (RFC 959) lets the lines between the first and the last say anything,
        so FTP probes pass ``strict=False``. Raises PROTOCOL_ERROR for a
        malformed or inconsistent reply or one past the size limits.
        """
        lines = self._bounded_lines()
        first_line = next(lines)
        first = _REPLY_LINE.fullmatch(first_line)
        if first is None:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"malformed reply {_excerpt(first_line)}")
        code, more, texts = first[1], first[2] == "-", [first[3] or ""]
        while more:
            line = next(lines)
            parsed = _REPLY_LINE.fullmatch(line)
            if parsed is not None and parsed[1] == code:
                more = parsed[2] == "-"
                texts.append(parsed[3] or "")
            elif not strict:
                texts.append(line)
            elif parsed is not None:
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                                   f"reply code changed from {code} to {parsed[1]} mid-reply")
            else:
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"malformed line in a {code} reply {_excerpt(line)}")
        return Reply(int(code), tuple(texts))

    def command(self, line: str, *, shown: str | None = None, strict: bool = True) -> Reply:
        """Send ``line`` and read the whole reply."""
        self.send(line, shown=shown)
        return self.read_reply(strict=strict)

    def read_dot_block(self) -> tuple[str, ...]:
        """Read a POP3 multi-line response body up to the lone ``.``, undoing dot-stuffing."""
        lines = self._bounded_lines()
        block = []
        while (line := next(lines)) != ".":
            block.append(line[1:] if line.startswith(".") else line)
        return tuple(block)

    def read_tagged(self, tag: str) -> tuple[tuple[str, ...], str]:
        """Read IMAP responses up to the one tagged ``tag``.

        Returns the untagged lines and the tagged line without its tag (e.g.
        ``"OK CAPABILITY completed"``). Literals are not interpreted: their
        bytes are read as lines, which the size limits still bound.
        """
        prefix = f"{tag} "
        lines = self._bounded_lines()
        untagged = []
        while not (line := next(lines)).startswith(prefix):
            untagged.append(line)
        return tuple(untagged), line[len(prefix):]

    def starttls(self, server_name: str, policy: TlsPolicy, *, now: datetime) -> TlsInfo:
        """Upgrade the connection to TLS (after the server's go-ahead) and return its facts.

        Anything the server sent in plaintext that we have not read yet is
        dropped first: it arrived before encryption, so it may have been
        injected by a man in the middle and must never be taken for a reply
        over TLS (CVE-2011-0411 and its many siblings). Also used for
        implicit TLS, where nothing has been read yet.
        """
        stale = self._stream.discard_buffer()
        if stale:
            self.transcript.note(f"discarded {len(stale)} bytes sent in plaintext before the TLS handshake")
        tls_sock, info = handshake(self._stream.sock, server_name, policy, self._stream.deadline, now=now)
        self._stream = DeadlineSocket(tls_sock, self._stream.deadline)
        trust = "certificate verified" if info.verified else "certificate not verified"
        self.transcript.note(f"TLS established: {info.version}, {info.cipher}, {trust}")
        return info

    def close(self) -> None:
        """Close the connection (the probe sends QUIT/LOGOUT itself first)."""
        self._stream.close()

    def _bounded_lines(self) -> Iterator[str]:
        """Yield the lines of one multi-line response, failing once it outgrows the limits."""
        count = size = 0
        while True:
            count += 1
            if count > self.max_reply_lines:
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"reply longer than {self.max_reply_lines} lines")
            line = self.read_line()
            size += len(line) + 2
            if size > self.max_reply_bytes:
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"reply larger than {self.max_reply_bytes} bytes")
            yield line


def _excerpt(text: str, limit: int = 80) -> str:
    """Server text quoted for a one-line summary."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
