"""FTP check: the whole banner, FEAT, explicit (AUTH TLS) or implicit FTPS, an optional login
and passive-mode test, and always QUIT.

The check's TLS mode says how the session is secured, as for IMAP and POP3:
``starttls`` (the default on port 21) upgrades with AUTH TLS (RFC 4217) and
makes its absence or refusal CRITICAL; ``implicit`` (port 990) speaks TLS from
the first byte; ``none`` stays in plaintext and never asks for AUTH TLS.
Features are asked for again after the upgrade, because what a server said
in plaintext is void.

No credential is ever sent without TLS: a login test on a check without TLS
is refused before connecting (only the anonymous account of RFC 1635 may log
in in the clear), and when AUTH TLS cannot be had the probe says QUIT without
a word of USER or PASS.

A 220 greeting proves nothing (an SMTP server greets with 220 too), so the
server must also answer as only FTP servers do: FEAT with 211, or, from a
server older than FEAT, SYST with 215. Anything else is a PROTOCOL_ERROR,
not an FTP server that merely lacks TLS.

The passive-mode test never follows a PASV address to another host: a server
behind NAT that hands out a wrong (often private) address is reported, not
obeyed, so the probe cannot be turned into a port scanner. The data port is
opened on the control connection's own peer only to prove it accepts, then
closed.

Every session ends with QUIT: probes that just hang up leave FTP servers
counting dead sessions until they answer "421 Too many connections".
"""
from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from wtforms import BooleanField, PasswordField, StringField, ValidationError, validators

from ninerstatus import (CheckType, ErrorKind, ProbeContext, ProbeFailure, ProbeResult, Status, SubCheck,
                         Target, TlsMode, hookimpl)
from ninerstatus.probing import Conversation, ProbeSession, Reply
from ninerstatus.probing.deadline import open_connection

from ._mail import login_conflict, needs_username, tls_phrase

#: After these failures the control connection is out of step (or the time is spent),
#: so the probe says QUIT without waiting for an answer that will not come.
_OUT_OF_STEP = {ErrorKind.READ_TIMEOUT, ErrorKind.PROTOCOL_ERROR}

#: Accounts whose password is no secret (RFC 1635: anonymous FTP asks for an e-mail address).
ANONYMOUS = frozenset({"anonymous", "ftp"})

# "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)"; the parentheses are optional (RFC 1123 4.1.2.6).
_PASV = re.compile(r"(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})")
# "229 Entering Extended Passive Mode (|||6446|)": any delimiter, repeated (RFC 2428 section 3).
_EPSV = re.compile(r"\(([!-~])\1\1(\d{1,5})\1\)")


def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Greet, prove it is FTP, secure the session as the TLS mode says, optionally log in and test PASV, QUIT."""
    username, password = settings.get("username") or "", settings.get("password") or ""
    if settings.get("check_pasv") and not username:
        raise ProbeFailure(ErrorKind.CONFIG_ERROR, "the passive-mode test needs a username to log in",
                           Status.UNKNOWN)
    conflict = login_conflict(settings, target.tls, anonymous=ANONYMOUS)
    if conflict is not None:
        raise conflict.failure()
    with ctx.session(target) as s:
        s.transcript.add_secret(password)
        conv = s.connect()
        try:
            verdict = _converse(s, conv, settings)
        except ProbeFailure as failure:
            _quit(conv, wait=failure.kind not in _OUT_OF_STEP)
            raise
        _quit(conv, wait=True)  # before the result is built, so its transcript shows the goodbye
        return s.result(verdict.status, verdict.summary, error_kind=verdict.error_kind,
                        subchecks=verdict.subchecks)


class _Verdict(NamedTuple):
    """What the conversation found, turned into a result once QUIT is done."""

    status: Status
    summary: str
    error_kind: ErrorKind | None
    subchecks: list[SubCheck]


def _converse(s: ProbeSession, conv: Conversation, settings: Mapping[str, Any]) -> _Verdict:
    """The session from the greeting up to (not including) QUIT."""
    username = settings.get("username") or ""
    with s.phase("banner"):
        greeting = _read_greeting(conv)
    s.details["banner"] = greeting.text
    features = _first_features(s, conv)
    if s.target.tls is TlsMode.STARTTLS:
        _auth_tls(s, conv, logging_in=bool(username))
    if s.tls is not None:
        # Data connections stay in plaintext unless asked for (RFC 4217 sections 8 and 9).
        conv.command("PBSZ 0", strict=False).expect(200)
        conv.command("PROT P", strict=False).expect(200)
        if s.target.tls is TlsMode.STARTTLS:
            after, _ = _feat(conv)
            s.details["features_tls"] = after if after is not None else "FEAT not supported"
    s.details["tls_mode"] = {TlsMode.NONE: "none", TlsMode.STARTTLS: "explicit",
                             TlsMode.IMPLICIT: "implicit"}[s.target.tls]
    offered = features is not None and _offers_auth_tls(features)
    parts, subchecks = [tls_phrase(s.target, s.tls, "AUTH TLS", "FTP", offered=offered)], []
    if username:
        subchecks.append(_login(conv, username, settings.get("password") or ""))
        parts.append("login ok")
    if settings.get("check_pasv"):
        passive = _passive(s, conv)
        subchecks.append(passive)
        if passive.status is not Status.OK:
            return _Verdict(passive.status, passive.summary, ErrorKind.PROTOCOL_ERROR, subchecks)
        parts.append("passive port open")
    return _Verdict(Status.OK, ", ".join(parts), None, subchecks)


def _read_greeting(conv: Conversation) -> Reply:
    """The whole 220 greeting (after an optional "120 ready in N minutes"); anything else is CRITICAL."""
    reply = conv.read_reply(strict=False)
    if reply.code == 120:  # RFC 959: "service ready in nnn minutes", then the real greeting
        reply = conv.read_reply(strict=False)
    if reply.code != 220:
        raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY,
                           f"server greeted with {reply.code} {_excerpt(reply.lines[0])}")
    return reply


def _feat(conv: Conversation) -> tuple[list[str] | None, Reply]:
    """Ask FEAT (RFC 2389): the features listed, or None when the server refuses the command (5xx)."""
    reply = conv.command("FEAT", strict=False)
    if reply.code == 211:
        # "211-Features:", one feature per line with a leading space, "211 End": only the middle counts.
        return [line.strip() for line in reply.lines[1:-1] if line.strip()], reply
    if 500 <= reply.code < 600:
        return None, reply
    raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"FEAT answered {reply.code} {_excerpt(reply.lines[0])}")


def _first_features(s: ProbeSession, conv: Conversation) -> list[str] | None:
    """The features before any upgrade, once the server has answered as only an FTP server does.

    FEAT's 211 is enough. A server that refuses FEAT (FTP servers from before
    RFC 2389 do, and so does every SMTP server) must answer SYST with 215,
    which no SMTP server does; otherwise this is not an FTP dialogue.
    """
    features, reply = _feat(conv)
    s.details["features"] = features if features is not None else "FEAT not supported"
    if features is not None:
        return features
    system = conv.command("SYST", strict=False)
    if system.code != 215:
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                           f"not an FTP server: FEAT answered {reply.code} {_excerpt(reply.lines[0])}, "
                           f"SYST {system.code} {_excerpt(system.lines[0])}")
    s.details["system"] = system.text
    return None


def _offers_auth_tls(features: list[str]) -> bool:
    """True when FEAT lists AUTH with TLS among its mechanisms ("AUTH TLS", "AUTH TLS;SSL"...)."""
    for feature in features:
        name, _, mechanisms = feature.upper().partition(" ")
        if name == "AUTH" and "TLS" in re.split(r"[\s;,]+", mechanisms):
            return True
    return False


def _auth_tls(s: ProbeSession, conv: Conversation, *, logging_in: bool) -> None:
    """Upgrade with AUTH TLS; STARTTLS_UNAVAILABLE (and no login) when the server will not.

    AUTH TLS is asked for even when FEAT leaves it out: some servers (vsftpd
    with only TLS 1.2+ enabled) accept it without listing it, and only the
    server's answer can prove it is missing.
    """
    with s.phase("starttls"):
        reply = conv.command("AUTH TLS", strict=False)
    if reply.code != 234:
        refusal = f"AUTH TLS refused: {reply.code} {_excerpt(reply.lines[0])}"
        s.details["auth_tls"] = refusal
        if logging_in:
            refusal += "; no login attempted without TLS"
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, refusal)
    s.handshake(conv)
    s.details["auth_tls"] = "ok"


def _login(conv: Conversation, username: str, password: str) -> SubCheck:
    """USER and PASS: 230 is OK, 530 is AUTH_FAILED, anything else UNEXPECTED_REPLY."""
    reply = conv.command(f"USER {username}", strict=False)
    if reply.code == 331:
        reply = conv.command(f"PASS {password}", shown="PASS ***", strict=False)
    if reply.code == 530:
        raise ProbeFailure(ErrorKind.AUTH_FAILED, f"login as {username} refused: 530 {_excerpt(reply.lines[0])}")
    reply.expect(230)
    return SubCheck("login", Status.OK, f"logged in as {username}")


def _passive(s: ProbeSession, conv: Conversation) -> SubCheck:
    """Ask for a passive data port and prove it opens, on the control connection's peer only."""
    peer_sockaddr = conv.stream.sock.getpeername()
    peer = ipaddress.ip_address(peer_sockaddr[0])
    if peer.version == 6:
        # PASV cannot carry an IPv6 address; EPSV names only a port, on the same host by definition.
        host, port = peer, _epsv_port(conv.command("EPSV", strict=False).expect(229))
    else:
        host, port = _pasv_address(conv.command("PASV", strict=False).expect(227))
    shown = f"[{host}]:{port}" if host.version == 6 else f"{host}:{port}"
    s.details["passive"] = shown
    if host != peer:
        return SubCheck("passive", Status.WARNING, f"server offered passive address {host}, not followed")
    family = conv.stream.sock.family
    try:
        data = open_connection([(family, (peer_sockaddr[0], port, *peer_sockaddr[2:]))], s.deadline)
    except ProbeFailure as failure:
        raise ProbeFailure(failure.kind, f"passive data port: {failure.message}") from failure
    data.close()
    return SubCheck("passive", Status.OK, f"passive data port {shown} opens")


def _pasv_address(reply: Reply) -> tuple[ipaddress.IPv4Address, int]:
    found = _PASV.search(reply.text)
    numbers = [int(n) for n in found.groups()] if found else []
    if not numbers or any(n > 255 for n in numbers) or numbers[4:] == [0, 0]:
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"unreadable PASV reply {_excerpt(reply.lines[0])}")
    return ipaddress.IPv4Address(".".join(map(str, numbers[:4]))), numbers[4] * 256 + numbers[5]


def _epsv_port(reply: Reply) -> int:
    found = _EPSV.search(reply.text)
    if found is None or not 1 <= int(found[2]) <= 65535:
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"unreadable EPSV reply {_excerpt(reply.lines[0])}")
    return int(found[2])


def _quit(conv: Conversation, *, wait: bool) -> None:
    """Say QUIT, and read the answer when the conversation is still in step.

    Best effort: the verdict is already made, and a server that fumbles its
    goodbye (or is gone) changes nothing about it.
    """
    try:
        conv.send("QUIT")
        if wait:
            conv.read_reply(strict=False)
    except (ProbeFailure, OSError):  # OSError: the socket is already closed (a failed handshake closes it)
        pass


def _excerpt(text: str, limit: int = 80) -> str:
    """Server text quoted for a one-line summary."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _pasv_needs_login(form: Any, field: Any) -> None:
    if field.data and not form.username.data:
        raise ValidationError("the passive-mode test needs a username to log in")


@hookimpl
def ninerstatus_check_types() -> list[CheckType]:
    """Register the FTP / FTPS check."""
    no_spaces = validators.Regexp(r"^\S*$", message="no spaces or line breaks")
    return [CheckType(
        name="ftp",
        label="FTP",
        probe=probe,
        default_port=21,
        ports={"ftp": 21, "ftps": 990},
        tls_by_port={21: TlsMode.STARTTLS, 990: TlsMode.IMPLICIT},  # STARTTLS: AUTH TLS, required
        tls_modes=tuple(TlsMode),
        tls_conflict=functools.partial(login_conflict, anonymous=ANONYMOUS),
        url_schemes={"ftp": 21, "ftps": 990},
        settings={
            "username": StringField("Test account", default="",
                                    validators=[validators.Length(max=256), no_spaces],
                                    description="Log in with this account (over TLS only, unless it is "
                                                "anonymous); leave empty to skip the login."),
            "password": PasswordField("Password", default="",
                                      validators=[validators.Length(max=256),
                                                  validators.Regexp(r"^[^\r\n]*$", message="no line breaks"),
                                                  needs_username],
                                      description="Never shown in transcripts."),
            "check_pasv": BooleanField("Test passive mode", default=False,
                                       # "-o check_pasv=no" on the command line must not mean yes.
                                       false_values=("false", "no", "off", "0", ""),
                                       validators=[_pasv_needs_login],
                                       description="After login, open the passive data port once "
                                                   "(never on another host)."),
        },
        description="Reads the whole banner, makes sure the server speaks FTP (FEAT, or SYST), upgrades with "
                    "AUTH TLS where required (21) or speaks TLS from the start (990) and verifies the "
                    "certificate, optionally logs in with a test account (never without TLS) and opens a "
                    "passive data port, and always says QUIT.",
    )]
