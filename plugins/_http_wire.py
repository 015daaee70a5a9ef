"""HTTP/1.1 spoken by hand over a deadline-bound connection: one request, one bounded response.

``http.client`` cannot bound a header block or a body, cannot time the first
byte and keeps reading for as long as a peer drips bytes. Here every read
goes through the probe's ``DeadlineSocket``: the status line, each header
line, the number and total size of headers, chunk-size lines and the body
all have limits, and the total deadline holds whatever the server does.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from ninerstatus import ErrorKind, ProbeFailure
from ninerstatus.probing import Conversation, cap_text

MAX_LINE = 8192
MAX_HEADERS = 100
MAX_HEADER_BYTES = 64 * 1024
MAX_INTERIM_RESPONSES = 5
MAX_CHUNK_LINE = 1024

#: Statuses and methods whose responses never carry a body (RFC 9112 section 6.3).
_BODYLESS_STATUSES = frozenset({204, 304})

_STATUS_LINE = re.compile(r"HTTP/(1\.[01]) ([1-9]\d\d)(?: (.*))?")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(r"([0-9A-Fa-f]{1,16})[ \t]*(?:;.*)?")


@dataclass(frozen=True)
class Request:
    """One HTTP/1.1 request with no body (the probe only asks, it never uploads)."""

    method: str
    path: str
    host: str
    user_agent: str = "ninerstatus-probe"

    def lines(self) -> list[str]:
        """The request line and headers, without line ends."""
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}",
                 f"User-Agent: {self.user_agent}", "Accept: */*",
                 # A compressed body could not be matched against the expected text.
                 "Accept-Encoding: identity",
                 # One request per connection: the end of the body is then never in doubt.
                 "Connection: close"]
        if self.method in ("POST", "PUT"):
            lines.append("Content-Length: 0")
        return lines


@dataclass(frozen=True)
class Head:
    """The status line and headers of a final (non-1xx) response."""

    version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (any case), or None."""
        values = self.header_values(name)
        return values[0] if values else None

    def header_values(self, name: str) -> list[str]:
        """Every value of header ``name`` (any case), in order."""
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]


@dataclass(frozen=True)
class Body:
    """The part of a response body that was read, and whether more was left unread."""

    data: bytes
    truncated: bool
    framing: str  # "none", "length", "chunked" or "close"

    def text(self, content_type: str | None) -> str:
        """The body decoded with the charset of ``content_type`` (UTF-8 when absent or unknown)."""
        charset = "utf-8"
        match = re.search(r"charset=\"?([A-Za-z0-9._:-]+)", content_type or "", re.IGNORECASE)
        if match:
            try:
                charset = codecs.lookup(match[1]).name
            except LookupError:
                pass
        return self.data.decode(charset, errors="replace")


def send(conv: Conversation, request: Request) -> None:
    """Send ``request`` in one write (several small writes would meet Nagle and delayed ACKs)."""
    lines = request.lines()
    if any("\r" in line or "\n" in line for line in lines):
        # Settings are validated; this guards against header injection all the same.
        raise ProbeFailure(ErrorKind.CONFIG_ERROR, "refusing to send a header containing a line break")
    for line in lines:
        conv.transcript.client(line)
    conv.stream.sendall("".join(f"{line}\r\n" for line in lines).encode("utf-8") + b"\r\n")


def read_head(conv: Conversation) -> Head:
    """Read the status line and headers of the final response, skipping 1xx interim ones."""
    for _ in range(MAX_INTERIM_RESPONSES + 1):
        line = conv.read_line()
        parsed = _STATUS_LINE.fullmatch(line)
        if parsed is None:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"not an HTTP status line: {_excerpt(line)}")
        headers = _read_headers(conv)
        status = int(parsed[2])
        if status >= 200:
            return Head(parsed[1], status, parsed[3] or "", headers)
    raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"more than {MAX_INTERIM_RESPONSES} interim 1xx responses")


def read_body(conv: Conversation, head: Head, method: str, max_bytes: int) -> Body:
    """Read at most ``max_bytes`` of the body, framed as RFC 9112 section 6.3 says.

    A body longer than ``max_bytes`` is not an error: the rest is left unread
    and ``truncated`` is set. A body cut short or badly framed is a PROTOCOL_ERROR.
    """
    if method == "HEAD" or head.status in _BODYLESS_STATUSES:
        return Body(b"", False, "none")
    encodings = [coding.strip().lower() for value in head.header_values("Transfer-Encoding")
                 for coding in value.split(",") if coding.strip()]
    if encodings:
        if encodings[-1] == "chunked":
            return _read_chunked(conv, max_bytes)
        return _read_until_close(conv, max_bytes)
    length = _content_length(head)
    if length is None:
        return _read_until_close(conv, max_bytes)
    data = conv.stream.read_exact(min(length, max_bytes))
    return Body(data, length > max_bytes, "length")


def _read_headers(conv: Conversation) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    size = 0
    while line := conv.read_line():
        size += len(line) + 2
        if size > MAX_HEADER_BYTES:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"response headers larger than {MAX_HEADER_BYTES} bytes")
        if line[0] in " \t" and headers:
            # Obsolete line folding (RFC 9112 section 5.2): the line continues the previous value.
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, colon, value = line.partition(":")
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"malformed header line {_excerpt(line)}")
        if len(headers) == MAX_HEADERS:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"more than {MAX_HEADERS} response headers")
        headers.append((name, value.strip()))
    return tuple(headers)


def _content_length(head: Head) -> int | None:
    values = {value.strip() for field in head.header_values("Content-Length") for value in field.split(",")}
    if not values:
        return None
    if len(values) > 1 or not all(value.isdigit() and value.isascii() for value in values):
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"invalid Content-Length {', '.join(sorted(values))!r}")
    return int(values.pop())


def _read_until_close(conv: Conversation, max_bytes: int) -> Body:
    data = bytearray()
    while len(data) < max_bytes:
        chunk = conv.stream.read_some(max_bytes - len(data))
        if not chunk:
            return Body(bytes(data), False, "close")
        data += chunk
    # Stopped at the limit: the server may have had more to say, and we do not wait to hear it.
    return Body(bytes(data), True, "close")


def _read_chunked(conv: Conversation, max_bytes: int) -> Body:
    data = bytearray()
    stream = conv.stream
    while True:
        line = stream.read_line(MAX_CHUNK_LINE).decode("latin-1")
        parsed = _CHUNK_SIZE.fullmatch(line.strip())
        if parsed is None:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"malformed chunk size line {_excerpt(line)}")
        size = int(parsed[1], 16)
        if size == 0:
            _read_headers(conv)  # trailers, bounded like headers
            return Body(bytes(data), False, "chunked")
        room = max_bytes - len(data)
        data += stream.read_exact(min(size, room))
        if size > room:
            return Body(bytes(data), True, "chunked")
        if stream.read_line(0) != b"":
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, "chunk data longer than its announced size")


def _excerpt(text: str) -> str:
    """Server text, shortened and quoted, for a one-line message."""
    return repr(cap_text(text, 80))
