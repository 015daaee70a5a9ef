"""IMAP check: greeting, CAPABILITY, STARTTLS (or implicit TLS), CAPABILITY again, optional login, LOGOUT.

143 upgrades with STARTTLS, 993 speaks TLS from the first byte. After TLS
the server must have dropped LOGINDISABLED, or nobody can log in. The
greeting is told apart: ``* OK`` is normal, ``* PREAUTH`` (already logged
in) is noted, ``* BYE`` (go away) is an outage. Every read is bounded,
literals included: a server announcing ``{999999999}`` is refused at once.
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any

from ninerstatus import CheckType, ErrorKind, ProbeFailure, ProbeResult, Status, SubCheck, TlsMode, hookimpl
from ninerstatus.probing import Conversation, ProbeContext, ProbeSession, Target

from ._mail import (Farewell, credential_settings, credentials, login_conflict, login_refused,
                    record_capabilities, tls_phrase)

#: The longest literal the probe reads; nothing it asks for needs more.
MAX_LITERAL = 8192

_GREETING = re.compile(r"\* (OK|PREAUTH|BYE)(?: \[([^\]]*)\])?(?: (.*))?", re.IGNORECASE)
_LITERAL = re.compile(r"\{(\d+)\+?\}$")
_CAPABILITY_LINE = re.compile(r"\* CAPABILITY (.*)", re.IGNORECASE)


def _quoted(text: str) -> str:
    """``text`` as an IMAP quoted string (RFC 3501 section 4.3)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapClient:
    """Tagged commands over a conversation, with bounded responses and literals.

    :param conv: the conversation with the server.
    """

    def __init__(self, conv: Conversation) -> None:
        self.conv = conv
        self._tags = (f"a{number}" for number in itertools.count(1))

    def command(self, line: str, *, shown: str | None = None) -> tuple[list[str], str, str]:
        """Send a tagged command; return the untagged lines, the status word and the status text."""
        tag = next(self._tags)
        self.conv.send(f"{tag} {line}", shown=None if shown is None else f"{tag} {shown}")
        untagged, size = [], 0
        while True:
            response = self._read_response()
            if response.startswith(f"{tag} "):
                status, _, text = response[len(tag) + 1:].partition(" ")
                return untagged, status.upper(), text
            size += len(response)
            untagged.append(response)
            if len(untagged) > self.conv.max_reply_lines or size > self.conv.max_reply_bytes:
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"response to {line.split()[0]} is too long")

    def capabilities(self) -> list[str]:
        """Ask CAPABILITY and return the capability words in upper case."""
        untagged, status, text = self.command("CAPABILITY")
        if status != "OK":
            raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"CAPABILITY answered {status} {text}".strip())
        for response in untagged:
            found = _CAPABILITY_LINE.fullmatch(response)
            if found:
                return found[1].upper().split()
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, "no CAPABILITY in the response to CAPABILITY")

    def logout(self) -> None:
        """Say goodbye."""
        self.command("LOGOUT")

    def _read_response(self) -> str:
        """One response line, with any literal it announces read in (up to ``MAX_LITERAL`` bytes)."""
        line = self.conv.read_line()
        while literal := _LITERAL.search(line):
            count = int(literal[1])
            if count > MAX_LITERAL:
                # Reading it as lines would eat the whole budget; refuse at once.
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                                   f"server announced a literal of {count} bytes (limit {MAX_LITERAL})")
            data = self.conv.stream.read_exact(count).decode("utf-8", errors="replace")
            self.conv.transcript.note(f"literal of {count} bytes")
            line = line + data + self.conv.read_line()
            if len(line) > self.conv.max_reply_bytes:
                raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"response longer than {self.conv.max_reply_bytes} bytes")
        return line


def _auth_mechanisms(capabilities: list[str]) -> list[str]:
    """The SASL mechanisms among the capabilities ("AUTH=PLAIN" gives "PLAIN")."""
    return [word[5:] for word in capabilities if word.startswith("AUTH=")]


def _greet(s: ProbeSession, conv: Conversation, farewell: Farewell) -> tuple[str, list[str] | None]:
    """Read the greeting; return its kind (OK or PREAUTH) and the capabilities it carries, if any."""
    with s.phase("banner"):
        greeting = conv.read_line()
    s.details["banner"] = greeting
    parsed = _GREETING.fullmatch(greeting)
    if parsed is None:
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"not an IMAP greeting: {greeting[:80]!r}")
    kind = parsed[1].upper()
    if kind == "BYE":
        farewell.skip()  # the server is hanging up already
        raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"server refuses service: {greeting[:80]!r}")
    code = (parsed[2] or "").split()
    if code and code[0].upper() == "CAPABILITY":
        return kind, [word.upper() for word in code[1:]]
    return kind, None


def _upgrade(s: ProbeSession, client: ImapClient, capabilities: list[str], preauth: bool) -> None:
    """STARTTLS and the handshake; STARTTLS_UNAVAILABLE when it cannot be had."""
    if preauth:
        # RFC 3501: STARTTLS is only valid before authentication.
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, "greeted with PREAUTH in plaintext, so no STARTTLS")
    if "STARTTLS" not in capabilities:
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, "STARTTLS not offered")
    with s.phase("starttls"):
        _, status, text = client.command("STARTTLS")
    if status != "OK":
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, f"STARTTLS refused: {status} {text}".strip())
    s.handshake(client.conv)


def _login(client: ImapClient, username: str, password: str) -> SubCheck:
    """LOGIN with the test account; AUTH_FAILED when refused. The password never reaches the transcript."""
    for secret in (password, _quoted(password)):
        client.conv.transcript.add_secret(secret)
    _, status, text = client.command(f"LOGIN {_quoted(username)} {_quoted(password)}",
                                     shown=f"LOGIN {_quoted(username)} ***")
    if status != "OK":
        # NO is a refusal; BAD means the server could not even parse the command.
        raise login_refused(username, text if status == "NO" else f"{status} {text}")
    return SubCheck("login", Status.OK, f"logged in as {username}")


def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Check an IMAP server as a mail client would find it; see the module docstring."""
    account = credentials(settings, target)
    with ctx.session(target) as s:
        conv = s.connect()
        client = ImapClient(conv)
        login: SubCheck | None = None
        with Farewell(s.transcript, client.logout) as farewell:
            kind, capabilities = _greet(s, conv, farewell)
            preauth = kind == "PREAUTH"
            s.details["preauth"] = preauth
            if capabilities is None:
                capabilities = client.capabilities()
            offered = "STARTTLS" in capabilities
            if target.tls is TlsMode.STARTTLS:
                record_capabilities(s, capabilities, _auth_mechanisms(capabilities), before_tls=True)
                _upgrade(s, client, capabilities, preauth)
                # Capabilities learnt before TLS are void (RFC 3501 section 6.2.1): ask again.
                capabilities = client.capabilities()
            record_capabilities(s, capabilities, _auth_mechanisms(capabilities))
            if target.tls is not TlsMode.NONE and "LOGINDISABLED" in capabilities:
                # RFC 3501: a client must not send LOGIN then, so we do not either.
                login = SubCheck("login", Status.WARNING, "LOGINDISABLED after TLS: users cannot log in")
            elif account is not None and not preauth:
                login = _login(client, *account)
        summary = tls_phrase(target, s.tls, "STARTTLS", "IMAP", offered=offered)
        if preauth:
            summary += ", PREAUTH"
        if login is None:
            return s.ok(summary)
        if login.status is Status.WARNING:
            return s.result(Status.WARNING, f"{summary}; {login.summary}",
                            error_kind=ErrorKind.EXPECTATION_FAILED, subchecks=[login])
        return s.ok(f"{summary}, login ok", subchecks=[login])


@hookimpl
def ninerstatus_check_types() -> list[CheckType]:
    """Register the IMAP check type."""
    return [CheckType(
        name="imap",
        label="IMAP",
        probe=probe,
        default_port=143,
        ports={"imap": 143, "imaps": 993},
        tls_by_port={143: TlsMode.STARTTLS, 993: TlsMode.IMPLICIT},
        tls_modes=tuple(TlsMode),
        tls_conflict=login_conflict,
        settings=credential_settings(),
        url_schemes={"imap": 143, "imaps": 993},
        description=("Reads the greeting (OK, PREAUTH or BYE), asks CAPABILITY, upgrades with STARTTLS "
                     "where required (143) or speaks TLS from the start (993), asks CAPABILITY again, "
                     "checks LOGINDISABLED is gone, optionally logs in with a test account; LOGOUT always."),
    )]
