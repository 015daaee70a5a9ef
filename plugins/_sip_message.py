"""SIP messages for the SIP check: the OPTIONS request it sends and the responses it reads.

Only what a probe needs from RFC 3261: a request with a fresh branch, tag
and Call-ID; a bounded, tolerant parse of a response's status line and
headers (compact names, folded lines); and the rule that a response is ours
only when its Call-ID and CSeq are the ones we sent.
"""
from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass

from ninerstatus import ErrorKind, ProbeFailure

#: Most header lines and header bytes accepted in one message.
MAX_HEADER_LINES = 100
MAX_HEADER_BYTES = 16 * 1024
#: Largest body read (and thrown away) over a stream transport.
MAX_BODY_BYTES = 64 * 1024

#: RFC 3261 section 8.1.1.7: a branch starting with the magic cookie says "RFC 3261 transaction ids".
BRANCH_COOKIE = "z9hG4bK"

# Compact header forms (RFC 3261 section 7.3.3 and the IANA registry) for the headers we read.
_COMPACT = {"i": "call-id", "v": "via", "f": "from", "t": "to", "l": "content-length", "c": "content-type",
            "m": "contact", "k": "supported"}
_STATUS_LINE = re.compile(r"SIP/2\.0 ([1-6]\d\d)(?: (.*))?")
_REQUEST_LINE = re.compile(r"[A-Za-z]+ \S+ SIP/2\.0")
_CSEQ = re.compile(r"(\d{1,10})\s+(\S+)")


@dataclass(frozen=True)
class OptionsRequest:
    """One OPTIONS request; every probe makes a new one, so its identifiers are never reused.

    :param uri: the Request-URI (and the To URI).
    :param transport: "UDP", "TCP" or "TLS", as the Via header names it.
    :param local: our (address, port), for Via and From.
    """

    uri: str
    transport: str
    local: tuple[str, int]
    branch: str
    tag: str
    call_id: str
    cseq: int

    @classmethod
    def fresh(cls, uri: str, transport: str, local_address: tuple[str, int]) -> OptionsRequest:
        """A request with a new random branch, From tag, Call-ID and CSeq number."""
        return cls(uri=uri, transport=transport.upper(), local=local_address,
                   branch=BRANCH_COOKIE + secrets.token_hex(10), tag=secrets.token_hex(8),
                   call_id=f"{secrets.token_hex(16)}@ninerstatus", cseq=1 + secrets.randbelow(2**31 - 2))

    def lines(self) -> list[str]:
        """The start line and headers, as sent (without the empty line that ends them)."""
        # rport (RFC 3581) asks for the answer to come back to the port we sent from, even through NAT.
        rport = ";rport" if self.transport == "UDP" else ""
        return [
            f"OPTIONS {self.uri} SIP/2.0",
            f"Via: SIP/2.0/{self.transport} {host_port(*self.local)};branch={self.branch}{rport}",
            "Max-Forwards: 70",
            f"From: <sip:ninerstatus@{host_port(self.local[0], None)}>;tag={self.tag}",
            f"To: <{self.uri}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} OPTIONS",
            "Accept: application/sdp",
            "User-Agent: ninerstatus",
            "Content-Length: 0",
        ]

    def encode(self) -> bytes:
        """The request on the wire."""
        return ("\r\n".join(self.lines()) + "\r\n\r\n").encode("utf-8")

    def answered_by(self, message: SipMessage) -> bool:
        """True when ``message`` is a response to this request: same Call-ID, same CSeq number and method."""
        cseq = _CSEQ.fullmatch(message.header("cseq"))
        return (message.code is not None and message.header("call-id") == self.call_id
                and cseq is not None and int(cseq[1]) == self.cseq and cseq[2] == "OPTIONS")


@dataclass(frozen=True)
class SipMessage:
    """A message's start line and headers (names lower-cased, compact forms expanded).

    ``code`` is None for a request: a server may send us one over a stream.
    """

    start: str
    code: int | None
    reason: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str:
        """The first value of header ``name`` (lower case), or "" when absent."""
        return next((value for key, value in self.headers if key == name), "")

    @property
    def content_length(self) -> int:
        """The declared body size; PROTOCOL_ERROR when it is not a number or too large to read."""
        value = self.header("content-length") or "0"
        if not value.isdigit() or int(value) > MAX_BODY_BYTES:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"unusable Content-Length {excerpt(value)}")
        return int(value)


def check_head_size(lines: int, size: int) -> None:
    """Raise PROTOCOL_ERROR once a message's head outgrows the limits."""
    if lines > MAX_HEADER_LINES or size > MAX_HEADER_BYTES:
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                           f"SIP headers beyond {MAX_HEADER_LINES} lines or {MAX_HEADER_BYTES} bytes")


def parse_head(lines: list[str]) -> SipMessage:
    """Parse a message's start line and header lines; PROTOCOL_ERROR for anything that is not SIP."""
    check_head_size(len(lines), sum(len(line) + 2 for line in lines))
    start = lines[0] if lines else ""
    code, reason = parse_start_line(start)
    headers: list[list[str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:  # a folded line continues the header above it
            headers[-1][1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        name = name.strip().lower()
        if not colon or not name or " " in name:
            raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"malformed SIP header line {excerpt(line)}")
        headers.append([_COMPACT.get(name, name), value.strip()])
    return SipMessage(start, code, reason, tuple((name, value) for name, value in headers))


def parse_start_line(line: str) -> tuple[int | None, str]:
    """A status line's code and reason, or (None, "") for a request line; PROTOCOL_ERROR for anything else."""
    status = _STATUS_LINE.fullmatch(line)
    if status is not None:
        return int(status[1]), (status[2] or "").strip()
    if _REQUEST_LINE.fullmatch(line):
        return None, ""
    raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"not a SIP message: {excerpt(line)}")


def datagram_head(data: bytes) -> list[str]:
    """The start line and header lines of one UDP datagram (its body, if any, is dropped)."""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return text.split("\n\n", 1)[0].split("\n")


def default_uri(host: str, port: int, default_port: int) -> str:
    """``sip:host``, with the port when it is not the transport's usual one, IPv6 in brackets."""
    return "sip:" + (host_port(host, port) if port != default_port else host_port(host, None))


def host_port(host: str, port: int | None) -> str:
    """``host:port`` (or just the host when ``port`` is None), with an IPv6 address in brackets."""
    try:
        bracketed = ipaddress.ip_address(host).version == 6
    except ValueError:
        bracketed = False
    shown = f"[{host}]" if bracketed else host
    return shown if port is None else f"{shown}:{port}"


def excerpt(text: str, limit: int = 80) -> str:
    """Peer text quoted for a one-line summary."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
