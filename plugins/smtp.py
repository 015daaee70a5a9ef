"""SMTP check: greeting, EHLO, STARTTLS (or implicit TLS), EHLO again, AUTH mechanisms, QUIT.

Submission on 587 must upgrade with STARTTLS, SMTPS on 465 speaks TLS from
the first byte, plain port 25 is probed without TLS (the summary says whether
STARTTLS is on offer). The probe reads the whole multi-line greeting before
it says a word: a client that talks early is dropped by postscreen-style
defences, which would hide real outages behind false ones.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from wtforms import StringField, ValidationError, validators
from wtforms.fields import Field

from ninerstatus import CheckType, ErrorKind, ProbeFailure, ProbeResult, Status, SubCheck, TlsMode, hookimpl
from ninerstatus.probing import Conversation, InvalidTarget, ProbeContext, ProbeSession, Reply, Target, validate_host

from ._mail import Farewell, record_capabilities, tls_phrase, token_setting, tokens


def _helo_name(form: Any, field: Field) -> None:
    """WTForms validator: a host name or an address literal such as [192.0.2.1] or [IPv6:2001:db8::1]."""
    name = field.data
    if not name:
        return
    if name.startswith("[") and name.endswith("]"):
        inner = name[1:-1]
        try:
            address = ipaddress.ip_address(inner.removeprefix("IPv6:"))
        except ValueError:
            address = None
        # RFC 5321 section 4.1.3: IPv6 literals carry the "IPv6:" tag, IPv4 ones do not.
        if address is None or (address.version == 6) != inner.startswith("IPv6:"):
            raise ValidationError(f"{name!r} is not an address literal such as [192.0.2.1] or [IPv6:2001:db8::1]")
        return
    try:
        validate_host(name)
    except InvalidTarget as error:
        raise ValidationError(str(error)) from None


def _excerpt(reply: Reply, limit: int = 80) -> str:
    """A reply's code and first line, shortened for a one-line summary."""
    text = reply.lines[0] if len(reply.lines[0]) <= limit else reply.lines[0][:limit] + "…"
    return f"{reply.code} {text}".strip()


def _address_literal(conv: Conversation) -> str:
    """Our own address as an RFC 5321 address literal: [192.0.2.1] or [IPv6:2001:db8::1]."""
    address = conv.stream.sock.getsockname()[0]
    return f"[IPv6:{address}]" if ":" in address else f"[{address}]"


def _auth_mechanisms(extensions: tuple[str, ...]) -> list[str]:
    """The SASL mechanisms an EHLO reply offers, including the old "AUTH=LOGIN" spelling."""
    mechanisms: list[str] = []
    for extension in extensions:
        words = extension.upper().split()
        if words and (words[0] == "AUTH" or words[0].startswith("AUTH=")):
            offered = words[1:] if words[0] == "AUTH" else [words[0][5:], *words[1:]]
            mechanisms.extend(m for m in offered if m and m not in mechanisms)
    return mechanisms


def _keywords(extensions: tuple[str, ...]) -> set[str]:
    return {extension.split()[0].upper() for extension in extensions if extension.split()}


def _hello(conv: Conversation, name: str, *, tls_required: bool) -> tuple[str, ...]:
    """Send EHLO and return the extensions it lists.

    A server that refuses EHLO with 5xx is an old SMTP server: HELO is tried,
    and it offers no extensions, unless TLS is required, because without EHLO
    there is no STARTTLS.
    """
    reply = conv.command(f"EHLO {name}")
    if reply.code == 250:
        return reply.lines[1:]
    if 500 <= reply.code < 600 and tls_required:
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, f"EHLO refused ({_excerpt(reply)}), so no STARTTLS")
    if 500 <= reply.code < 600:
        conv.command(f"HELO {name}").expect(250)
        return ()
    raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"EHLO answered {_excerpt(reply)}")


def _upgrade(s: ProbeSession, conv: Conversation, extensions: tuple[str, ...]) -> None:
    """STARTTLS and the handshake; STARTTLS_UNAVAILABLE when it is not offered or refused."""
    if "STARTTLS" not in _keywords(extensions):
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, "STARTTLS not offered")
    with s.phase("starttls"):
        reply = conv.command("STARTTLS")
    if reply.code != 220:
        raise ProbeFailure(ErrorKind.STARTTLS_UNAVAILABLE, f"STARTTLS refused: {_excerpt(reply)}")
    s.handshake(conv)


def _judge_auth(offered: list[str], expected: tuple[str, ...]) -> tuple[SubCheck, ErrorKind | None]:
    """Compare the mechanisms offered (after TLS) with those the check expects."""
    missing = [mechanism for mechanism in expected if mechanism not in offered]
    if not missing:
        return SubCheck("auth", Status.OK, f"AUTH {' '.join(expected)} offered"), None
    if not offered:
        # Nobody can authenticate: for a submission server that is an outage.
        return SubCheck("auth", Status.CRITICAL, "no AUTH offered"), ErrorKind.EXPECTATION_FAILED
    return (SubCheck("auth", Status.WARNING, f"AUTH {' '.join(missing)} not offered"),
            ErrorKind.EXPECTATION_FAILED)


def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Check an SMTP server as a mail client would find it; see the module docstring."""
    expected = tokens(settings.get("expect_auth"))
    tls_required = target.tls is TlsMode.STARTTLS
    with ctx.session(target) as s:
        conv = s.connect()
        with Farewell(s.transcript, lambda: conv.command("QUIT")):
            with s.phase("banner"):
                greeting = conv.read_reply()
            s.details["banner"] = greeting.text
            if greeting.code != 220:
                raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"server refuses service: {_excerpt(greeting)}")
            name = settings.get("helo_name") or _address_literal(conv)
            extensions = _hello(conv, name, tls_required=tls_required)
            if tls_required:
                record_capabilities(s, extensions, _auth_mechanisms(extensions), before_tls=True)
                _upgrade(s, conv, extensions)
                # Whatever the server said before TLS is void: ask again.
                extensions = _hello(conv, name, tls_required=True)
            offered = _auth_mechanisms(extensions)
            record_capabilities(s, extensions, offered)
        summary = tls_phrase(target, s.tls, "STARTTLS", "SMTP", offered="STARTTLS" in _keywords(extensions))
        if offered:
            summary += f", AUTH {' '.join(offered)}"
        if not expected:
            return s.ok(summary)
        check, kind = _judge_auth(offered, expected)
        return s.result(check.status, summary if kind is None else f"{summary}; {check.summary}",
                        error_kind=kind, subchecks=[check])


@hookimpl
def ninerstatus_check_types() -> list[CheckType]:
    """Register the SMTP check type."""
    return [CheckType(
        name="smtp",
        label="SMTP",
        probe=probe,
        default_port=587,
        ports={"smtp": 25, "submission": 587, "smtps": 465},
        tls_by_port={587: TlsMode.STARTTLS, 465: TlsMode.IMPLICIT},
        tls_modes=tuple(TlsMode),
        url_schemes={"smtp": 25, "submission": 587, "smtps": 465},
        settings={
            "helo_name": StringField("EHLO name", [validators.Optional(), _helo_name],
                                     description="Name to greet with (default: our address as [192.0.2.1])."),
            "expect_auth": token_setting("Expected AUTH mechanisms",
                                         "e.g. PLAIN LOGIN: each must be offered (after TLS)."),
        },
        description=("Reads the full greeting, says EHLO, upgrades with STARTTLS where required (587) "
                     "or speaks TLS from the start (465), says EHLO again and reports the AUTH "
                     "mechanisms before and after TLS; QUIT always."),
    )]
