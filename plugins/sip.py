"""SIP check: an OPTIONS request over UDP, TCP or TLS, judged by the status of its answer.

Each probe sends a new request (fresh Via branch, From tag, Call-ID and CSeq)
and accepts only the response that carries the same Call-ID and CSeq,
passing over provisional (1xx) and stale responses. Over UDP the request is
retransmitted on RFC 3261's timer E until the deadline: silence is an
outage, never "the socket connected, so it is up".

How the answer is judged: 2xx is OK; the codes in ``alive_codes`` (by
default 401, 403, 404 and 405: a server that answers but refuses strangers'
OPTIONS is alive) are OK too; 503 is WARNING (degraded); any other answer,
or none, is CRITICAL.

The transport and the TLS mode must agree: ``tls`` speaks TLS from the first
byte, ``udp`` and ``tcp`` are plaintext, and ``auto`` follows the TLS mode
(TLS, or UDP without it). A check that contradicts itself, such as transport
``tls`` with TLS mode none, is refused by the admin form and, as a stored row
or on the command line, reported UNKNOWN (``config_error``) without a packet
sent: the TLS mode never silently loses to the transport.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import SelectField, StringField, ValidationError, validators

from ninerstatus import CheckType, ErrorKind, ProbeContext, ProbeResult, Status, Target, TlsMode, hookimpl
from ninerstatus.checktypes import TlsConflict
from ninerstatus.probing import ProbeSession
from ninerstatus.probing.deadline import open_datagram, resolve

from ._sip_message import OptionsRequest, SipMessage, default_uri, excerpt
from ._sip_transport import Exchange, exchange_stream, exchange_udp

SIP_PORT, SIPS_PORT = 5060, 5061
#: The TLS mode each transport speaks ("auto" follows the check's mode).
_TRANSPORT_TLS = {"udp": TlsMode.NONE, "tcp": TlsMode.NONE, "tls": TlsMode.IMPLICIT}


def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Send OPTIONS over the configured transport and judge the final response."""
    conflict = tls_conflict(settings, target.tls)
    if conflict is not None:
        raise conflict.failure()
    transport = settings["transport"]
    if transport == "auto":
        transport = "tls" if target.tls is TlsMode.IMPLICIT else "udp"
    alive = alive_codes(settings["alive_codes"])
    uri = settings["uri"] or default_uri(target.host, target.port, SIPS_PORT if transport == "tls" else SIP_PORT)
    seen = Exchange()
    with ctx.session(target) as s:
        s.details.update(transport=transport, request_uri=uri)
        started = ctx.monotonic()
        try:
            answer = _over_udp(s, uri, seen) if transport == "udp" else _over_stream(s, uri, transport, seen)
        finally:
            s.details.update(retransmissions=seen.retransmissions, ignored=seen.ignored,
                             provisional=seen.provisional)
        milliseconds = (ctx.monotonic() - started) * 1000
        s.details.update(status=answer.code, reason=answer.reason,
                         server=answer.header("server") or answer.header("user-agent"),
                         allow=answer.header("allow"))
        status, kind = judge(answer.code, alive)
        shown = str(answer.code) if 200 <= answer.code < 300 else f"{answer.code} {excerpt(answer.reason, 40)}"
        # Loopback and LAN answers take well under a millisecond: keep a decimal for them.
        summary = f"OPTIONS {shown} in {milliseconds:.{0 if milliseconds >= 10 else 1}f} ms"
        if seen.retransmissions:
            summary += f" ({seen.retransmissions} retransmissions)"
        return s.result(status, summary, error_kind=kind, metrics={"retransmissions": seen.retransmissions})


def judge(code: int, alive: frozenset[int]) -> tuple[Status, ErrorKind | None]:
    """The status a final response code earns."""
    if 200 <= code < 300 or code in alive:
        return Status.OK, None
    if code == 503:
        return Status.WARNING, ErrorKind.UNEXPECTED_REPLY
    return Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY


def alive_codes(text: str) -> frozenset[int]:
    """Parse "401, 403" into codes; ValueError names the first entry that is not a final SIP status."""
    codes = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        if not (item.isdigit() and 200 <= int(item) <= 699):
            raise ValueError(f"{item!r} is not a SIP status code from 200 to 699")
        codes.add(int(item))
    return frozenset(codes)


def tls_conflict(settings: Mapping[str, Any], tls: TlsMode) -> TlsConflict | None:
    """Why the transport setting and the TLS mode ``tls`` contradict each other, or None when they agree."""
    transport = str(settings.get("transport") or "auto")
    speaks = _TRANSPORT_TLS.get(transport)
    if tls is TlsMode.STARTTLS:
        return TlsConflict("SIP has no STARTTLS", (speaks,) if speaks else (TlsMode.NONE, TlsMode.IMPLICIT))
    if speaks is None or speaks is tls:
        return None
    if speaks is TlsMode.IMPLICIT:
        return TlsConflict("the tls transport speaks TLS from the first byte", (TlsMode.IMPLICIT,),
                           "set the transport to udp, tcp or auto")
    return TlsConflict(f"the {transport} transport is plaintext", (TlsMode.NONE,), "set the transport to tls or auto")


def _over_udp(s: ProbeSession, uri: str, seen: Exchange) -> SipMessage:
    """Resolve, fix the peer of a datagram socket, and run the UDP transaction."""
    with s.phase("resolve"):
        addresses = resolve(s.target.host, s.target.port, s.target.family, s.deadline)
    # UDP cannot tell a live address from a dead one short of an answer, so only the first is asked.
    with open_datagram(addresses[0]) as sock:
        s.details["address"] = addresses[0][1][0]
        request = OptionsRequest.fresh(uri, "udp", sock.getsockname()[:2])
        with s.phase("first_byte"):
            return exchange_udp(sock, request, s.deadline, s.transcript, seen)


def _over_stream(s: ProbeSession, uri: str, transport: str, seen: Exchange) -> SipMessage:
    """Connect (and handshake, for TLS) and run the transaction over the stream."""
    conv = s.connect()
    request = OptionsRequest.fresh(uri, transport, conv.stream.sock.getsockname()[:2])
    with s.phase("first_byte"):
        return exchange_stream(conv.stream, request, s.transcript, seen)


def _valid_alive_codes(form: Any, field: Any) -> None:
    try:
        alive_codes(field.data or "")
    except ValueError as error:
        raise ValidationError(str(error)) from None


@hookimpl
def ninerstatus_check_types() -> list[CheckType]:
    """Register the SIP check."""
    return [CheckType(
        name="sip",
        label="SIP",
        probe=probe,
        default_port=SIP_PORT,
        ports={"sip": SIP_PORT, "sips": SIPS_PORT},
        tls_by_port={SIPS_PORT: TlsMode.IMPLICIT},
        tls_modes=(TlsMode.NONE, TlsMode.IMPLICIT),  # SIP has no STARTTLS
        tls_conflict=tls_conflict,
        transports=("udp", "tcp", "tls"),
        settings={
            "transport": SelectField("Transport", default="auto", choices=["auto", "udp", "tcp", "tls"],
                                     description="auto follows the TLS setting: TLS from the first byte (usual on 5061) "
                                                 "means tls, no TLS means udp. tls needs TLS from the first "
                                                 "byte; udp and tcp need no TLS."),
            "uri": StringField("Request-URI", default="",
                               validators=[validators.Optional(), validators.Length(max=256),
                                           validators.Regexp(r'^sips?:[^\s<>"]+$',
                                                             message="a sip: or sips: URI without spaces")],
                               description="Default: sip:<host>, with the port when it is not the usual one."),
            "alive_codes": StringField("Also alive", default="401,403,404,405", validators=[_valid_alive_codes],
                                       description="Final status codes that still mean the server is up "
                                                   "(comma-separated); 2xx always does."),
        },
        description="Sends OPTIONS over UDP (retransmitted per RFC 3261), TCP or TLS with a fresh branch, tag "
                    "and Call-ID, matches the answer by Call-ID and CSeq, skips provisional responses; 2xx and "
                    "the alive codes are OK, 503 is degraded, anything else or silence is an outage.",
    )]
