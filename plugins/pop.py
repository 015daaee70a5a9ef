"""POP3 check: greeting, CAPA, STLS (or implicit TLS), CAPA again, optional USER/PASS login, QUIT.

110 upgrades with STLS (RFC 2595), 995 speaks TLS from the first byte.
CAPA (RFC 2449) is optional for servers: one that does not know it is
still asked for STLS when TLS is required, and its answer decides.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ninerstatus import CheckType, ErrorKind, ProbeFailure, ProbeResult, Status, SubCheck, TlsMode, hookimpl
from ninerstatus.probing import Conversation, ProbeContext, ProbeSession, Target

from ._mail import (Farewell, credential_settings, credentials, login_conflict, login_refused,
                    record_capabilities, tls_phrase)


def _status(conv: Conversation, line: str | None = None, *, shown: str | None = None) -> tuple[bool, str]:
    """Send ``line`` (if any) and read the status line: (True for +OK / False for -ERR, its text)."""
    if line is not None:
        conv.send(line, shown=shown)
    reply = conv.read_line()
    word, _, text = reply.partition(" ")
    if word.upper() not in ("+OK", "-ERR"):
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"not a POP3 status line: {reply[:80]!r}")
    return word.upper() == "+OK", text


def _capa(conv: Conversation) -> list[str] | None:
    """Ask CAPA; return the capability lines, or None when the server does not support CAPA."""
    ok, _ = _status(conv, "CAPA")
    return list(conv.read_dot_block()) if ok else None


def _keywords(capabilities: list[str] | None) -> set[str]:
    return {line.split()[0].upper() for line in capabilities or () if line.split()}


def _sasl(capabilities: list[str] | None) -> list[str]:
    """The SASL mechanisms a CAPA response offers ("SASL PLAIN LOGIN")."""
    for line in capabilities or ():
        words = line.upper().split()
        if words and words[0] == "SASL":
            return words[1:]
    return []


def _upgrade(s: ProbeSession, conv: Conversation, capabilities: list[str] | None) -> None:
    """STLS and the handshake; STARTTLS_UNAVAILABLE when it is not offered or refused."""
    if capabilities is not None and "STLS" not in _keywords(capabilities):
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, "STLS not offered")
    with s.phase("starttls"):
        ok, text = _status(conv, "STLS")
    if not ok:
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, f"STLS refused: -ERR {text}".strip())
    s.handshake(conv)


def _login(conv: Conversation, username: str, password: str) -> SubCheck:
    """USER and PASS with the test account; AUTH_FAILED when either is refused."""
    conv.transcript.add_secret(password)
    ok, text = _status(conv, f"USER {username}")
    if ok:
        ok, text = _status(conv, f"PASS {password}", shown="PASS ***")
    if not ok:
        raise login_refused(username, f"-ERR {text}")
    return SubCheck("login", Status.OK, f"logged in as {username}")


def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Check a POP3 server as a mail client would find it; see the module docstring."""
    account = credentials(settings, target)
    with ctx.session(target) as s:
        conv = s.connect()
        login: SubCheck | None = None
        with Farewell(s.transcript, lambda: _status(conv, "QUIT")):
            with s.phase("banner"):
                ok, text = _status(conv)
            s.details["banner"] = text
            if not ok:
                raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"server refuses service: -ERR {text}".strip())
            capabilities = _capa(conv)
            offered = "STLS" in _keywords(capabilities)
            if target.tls is TlsMode.STARTTLS:
                record_capabilities(s, capabilities or (), _sasl(capabilities), before_tls=True)
                _upgrade(s, conv, capabilities)
                # Capabilities learnt before TLS are void (RFC 2595 section 4): ask again.
                capabilities = _capa(conv)
            record_capabilities(s, capabilities or (), _sasl(capabilities))
            s.details["capa_supported"] = capabilities is not None
            if account is not None:
                login = _login(conv, *account)
        summary = tls_phrase(target, s.tls, "STLS", "POP3", offered=offered)
        if login is None:
            return s.ok(summary)
        return s.ok(f"{summary}, login ok", subchecks=[login])


@hookimpl
def ninerstatus_check_types() -> list[CheckType]:
    """Register the POP3 check type."""
    return [CheckType(
        name="pop",
        label="POP3",
        probe=probe,
        default_port=110,
        ports={"pop3": 110, "pop3s": 995},
        tls_by_port={110: TlsMode.STARTTLS, 995: TlsMode.IMPLICIT},
        tls_modes=tuple(TlsMode),
        tls_conflict=login_conflict,
        settings=credential_settings(),
        url_schemes={"pop": 110, "pop3": 110, "pops": 995, "pop3s": 995},
        description=("Reads the +OK greeting, asks CAPA, upgrades with STLS where required (110) or "
                     "speaks TLS from the start (995), asks CAPA again, optionally logs in with "
                     "USER/PASS using a test account; QUIT always."),
    )]
