"""The DNS probes (``dns`` and ``dns_sync``) and the parsing of their settings, with dnspython.

``dns.py`` registers the two check types and imports this module only when
one is probed or its settings are checked (see there why).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.serial

from ninerstatus import ErrorKind, ProbeFailure, ProbeResult, Status, SubCheck, Target
from ninerstatus.probing import ProbeContext, ProbeSession

from . import _dns_query as query
from ._settings import yes_no
from .dns import RECORD_TYPES, SERIAL_HALF

TRANSPORT_CHOICES = {"both": ("udp", "tcp"), "udp": ("udp",), "tcp": ("tcp",)}
MAX_SECONDARIES = 10
_ANSWERS_IN_SUMMARY = 3


# ---------------------------------------------------------------- settings

def parse_name(text: str) -> dns.name.Name:
    """The absolute domain name ``text`` (a trailing dot is optional); ``ValueError`` if it is not one."""
    text = text.strip()
    if not text or any(char.isspace() for char in text):
        raise ValueError(f"{text!r} is not a domain name")
    try:
        return dns.name.from_text(text)
    except (dns.exception.DNSException, ValueError) as error:
        raise ValueError(f"{text!r} is not a domain name: {error}") from None


def split_records(text: str) -> list[str]:
    """Split expected records at commas and line breaks, except inside double quotes (TXT, CAA)."""
    items, current = [], []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char in ",\n" and not quoted:
            items.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise ValueError("a double quote is not closed")
    items.append("".join(current))
    return [item.strip() for item in items if item.strip()]


def parse_expected(text: str, rdtype_text: str) -> tuple[dns.rdata.Rdata, ...]:
    """Parse expected records of type ``rdtype_text`` into record data, compared exactly later.

    Names are absolute whether or not they end in a dot, and a TXT record may
    be written without quotes (it is then one string).
    """
    rdtype = dns.rdatatype.from_text(rdtype_text)
    records = []
    for item in split_records(text):
        if rdtype == dns.rdatatype.TXT and not item.startswith('"'):
            item = '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'
        try:
            records.append(dns.rdata.from_text(dns.rdataclass.IN, rdtype, item, origin=dns.name.root,
                                               relativize=False))
        except (dns.exception.DNSException, ValueError) as error:
            raise ValueError(f"{item!r} is not {rdtype_text} record data: {error}") from None
    return tuple(records)


def server_list(text: str, default_port: int = 53) -> list[tuple[str, str, int]]:
    """The secondaries setting as (label, host, port), within the limits."""
    servers = query.parse_server_list(text, default_port)
    if not servers:
        raise ValueError("name at least one secondary")
    if len(servers) > MAX_SECONDARIES:
        raise ValueError(f"at most {MAX_SECONDARIES} secondaries")
    return servers


def _config_error(error: Exception) -> ProbeFailure:
    return ProbeFailure(ErrorKind.CONFIG_ERROR, str(error), Status.UNKNOWN)


@dataclass(frozen=True)
class DnsOptions:
    """The ``dns`` check's settings, validated and typed."""

    name: dns.name.Name
    rdtype: dns.rdatatype.RdataType
    expect: tuple[dns.rdata.Rdata, ...]
    transports: tuple[str, ...]
    require_aa: bool

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> DnsOptions:
        """Build from ``parse_settings`` output; ``ProbeFailure(CONFIG_ERROR)`` for bad values."""
        try:
            rdtype_text = str(settings.get("rdtype") or "A").upper()
            if rdtype_text not in RECORD_TYPES:
                raise ValueError(f"record type {rdtype_text!r} is not one of {', '.join(RECORD_TYPES)}")
            transport = settings.get("transport") or "both"
            if transport not in TRANSPORT_CHOICES:
                raise ValueError(f"transport {transport!r} is not udp, tcp or both")
            return cls(name=parse_name(settings.get("name") or ""),
                       rdtype=dns.rdatatype.from_text(rdtype_text),
                       expect=parse_expected(settings.get("expect") or "", rdtype_text),
                       transports=TRANSPORT_CHOICES[transport],
                       require_aa=yes_no(settings.get("require_aa", True)))
        except ValueError as error:
            raise _config_error(error) from None


@dataclass(frozen=True)
class SyncOptions:
    """The ``dns_sync`` check's settings, validated and typed."""

    zone: dns.name.Name
    secondaries: tuple[tuple[str, str, int], ...]
    allowed_lag: int
    behind_status: Status

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], primary_port: int) -> SyncOptions:
        """Build from ``parse_settings`` output; secondaries without a port use the primary's."""
        try:
            lag = int(settings.get("allowed_lag") or 0)
            if not 0 <= lag < SERIAL_HALF:
                raise ValueError(f"allowed_lag must be between 0 and {SERIAL_HALF - 1}")
            behind = str(settings.get("behind_status") or "warning").lower()
            if behind not in ("warning", "critical"):
                raise ValueError(f"behind_status {behind!r} is not warning or critical")
            secondaries = server_list(settings.get("secondaries") or "", primary_port)
            return cls(zone=parse_name(settings.get("zone") or ""), secondaries=tuple(secondaries),
                       allowed_lag=lag, behind_status=Status[behind.upper()])
        except ValueError as error:
            raise _config_error(error) from None


# ---------------------------------------------------------------- the record check

@dataclass(frozen=True)
class _Verdict:
    """How one transport's answer was judged."""

    status: Status
    summary: str
    kind: ErrorKind | None = None


def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Ask the nameserver for the records over each transport and judge every answer."""
    options = DnsOptions.from_settings(settings)
    started = ctx.monotonic()
    with ctx.session(target) as s:
        server = query.locate(s, str(target), target.host, target.port)
        s.details.update(address=server.ip, name=options.name.to_text(),
                         rdtype=dns.rdatatype.to_text(options.rdtype))
        verdicts: dict[str, _Verdict] = {}
        answers: list[str] = []
        metrics: dict[str, float] = {}
        for index, transport in enumerate(options.transports):
            budget = s.deadline.remaining() / (len(options.transports) - index)
            before = ctx.monotonic()
            try:
                reply = query.ask(s, server, options.name, options.rdtype, transport, budget)
            except ProbeFailure as failure:
                verdicts[transport] = _Verdict(failure.status, failure.message, failure.kind)
                continue
            metrics[f"{transport}_time"] = ctx.monotonic() - before
            facts = query.describe(reply)
            s.details[transport] = facts
            s.details.setdefault("rcode", facts["rcode"])
            verdicts[transport], found = _judge(reply, options, transport)
            answers = answers or found
        subchecks = [SubCheck(transport, verdict.status, verdict.summary) for transport, verdict in verdicts.items()]
        worst = Status.worst(verdict.status for verdict in verdicts.values())
        if worst is Status.OK:
            shown = ", ".join(answers[:_ANSWERS_IN_SUMMARY])
            if len(answers) > _ANSWERS_IN_SUMMARY:
                shown += f" and {len(answers) - _ANSWERS_IN_SUMMARY} more"
            flags = "authoritative" if all(s.details[t]["aa"] for t in verdicts) else "not authoritative"
            summary = (f"{dns.rdatatype.to_text(options.rdtype)} {shown} ({flags}, "
                       f"{'+'.join(t.upper() for t in verdicts)}) in {round((ctx.monotonic() - started) * 1000)} ms")
            return s.ok(summary, subchecks=subchecks, metrics=metrics)
        kind = next(v.kind for v in verdicts.values() if v.status is worst)
        return s.result(worst, _problems(verdicts), error_kind=kind, subchecks=subchecks, metrics=metrics)


def _judge(reply: dns.message.Message, options: DnsOptions, transport: str) -> tuple[_Verdict, list[str]]:
    """Judge one reply: rcode, AA, truncation, then the records; also return the records found."""
    name, type_text = options.name.to_text(), dns.rdatatype.to_text(options.rdtype)
    rcode = reply.rcode()
    if rcode != dns.rcode.NOERROR:
        return _Verdict(Status.CRITICAL, f"{dns.rcode.to_text(rcode)} for {name}", ErrorKind.UNEXPECTED_REPLY), []
    if options.require_aa and not reply.flags & dns.flags.AA:
        return _Verdict(Status.CRITICAL, f"answer for {name} is not authoritative (no AA flag)",
                        ErrorKind.UNEXPECTED_REPLY), []
    if reply.flags & dns.flags.TC:
        if transport == "udp" and "tcp" in options.transports:
            # The TCP answer is judged in full; a truncated UDP answer is normal for big RRsets.
            return _Verdict(Status.OK, "truncated, the full answer needs TCP"), []
        return _Verdict(Status.WARNING, f"answer for {name} truncated over UDP; ask over TCP to see it all",
                        ErrorKind.UNEXPECTED_REPLY), []
    chain, rrset = query.answer_records(reply, options.name, options.rdtype)
    found = [rdata.to_text() for rdata in rrset] if rrset is not None else []
    if not found:
        return _Verdict(Status.CRITICAL, f"no {type_text} record for {name}", ErrorKind.EXPECTATION_FAILED), []
    missing = [rdata.to_text() for rdata in options.expect if rdata not in rrset]
    if missing:
        return _Verdict(Status.CRITICAL, f"missing {', '.join(missing)} (answer: {', '.join(found)})",
                        ErrorKind.EXPECTATION_FAILED), found
    via = f" via {' -> '.join(alias.to_text() for alias in chain)}" if chain else ""
    return _Verdict(Status.OK, f"{len(found)} {type_text} record{'s' if len(found) > 1 else ''}{via}"), found


def _problems(verdicts: Mapping[str, _Verdict]) -> str:
    """One line naming what went wrong on which transport, e.g. "TCP: could not connect: ..."."""
    by_summary: dict[str, list[str]] = {}
    for transport, verdict in verdicts.items():
        if verdict.status is not Status.OK:
            by_summary.setdefault(verdict.summary, []).append(transport.upper())
    return "; ".join(f"{'+'.join(transports)}: {summary}" for summary, transports in by_summary.items())


# ---------------------------------------------------------------- the zone sync check

def sync_probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Read the zone's SOA serial from the primary and each secondary and compare them."""
    options = SyncOptions.from_settings(settings, target.port)
    with ctx.session(target) as s:
        zone = options.zone.to_text()
        s.details["zone"] = zone
        servers = len(options.secondaries) + 1
        primary = query.locate(s, str(target), target.host, target.port)
        try:
            primary_serial = _soa_serial(s, primary, options.zone, s.deadline.remaining() / servers)
        except ProbeFailure as failure:
            raise ProbeFailure(failure.kind, f"primary {target.host}: {failure.message}", failure.status) from failure
        s.details["primary"] = {"server": str(target), "address": primary.ip, "serial": primary_serial}
        reports: list[dict[str, Any]] = []
        verdicts: dict[str, _Verdict] = {}
        for index, (label, host, port) in enumerate(options.secondaries):
            budget = s.deadline.remaining() / (len(options.secondaries) - index)
            report: dict[str, Any] = {"server": label, "serial": None}
            reports.append(report)
            try:
                secondary = query.locate(s, label, host, port)
                report["address"] = secondary.ip
                report["serial"] = _soa_serial(s, secondary, options.zone, budget)
            except ProbeFailure as failure:
                report["error"] = failure.message
                verdicts[label] = _Verdict(failure.status, f"secondary {label}: {failure.message}", failure.kind)
                continue
            report["lag"], verdicts[label] = _compare(label, primary_serial, report["serial"], options)
        s.details["secondaries"] = reports
        subchecks = [SubCheck(label, verdict.status, verdict.summary) for label, verdict in verdicts.items()]
        metrics = {"max_lag": float(max((report.get("lag") or 0 for report in reports), default=0))}
        worst = Status.worst(verdict.status for verdict in verdicts.values())
        if worst is Status.OK:
            summary = _in_sync_summary(primary_serial, [report["serial"] for report in reports], options.allowed_lag)
            return s.ok(summary, subchecks=subchecks, metrics=metrics)
        kind = next(verdict.kind for verdict in verdicts.values() if verdict.status is worst)
        summary = "; ".join(verdict.summary for verdict in verdicts.values() if verdict.status is not Status.OK)
        return s.result(worst, summary, error_kind=kind, subchecks=subchecks, metrics=metrics)


def _soa_serial(s: ProbeSession, server: query.Nameserver, zone: dns.name.Name, budget: float) -> int:
    """The zone's SOA serial as ``server`` has it: authoritative answers only, TCP when UDP is truncated."""
    reply = query.ask(s, server, zone, dns.rdatatype.SOA, "udp", budget)
    if reply.flags & dns.flags.TC:
        s.transcript.note("UDP answer truncated; asking again over TCP")
        reply = query.ask(s, server, zone, dns.rdatatype.SOA, "tcp", budget)
    rcode = reply.rcode()
    if rcode != dns.rcode.NOERROR:
        raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"{dns.rcode.to_text(rcode)} for the SOA of {zone}")
    if not reply.flags & dns.flags.AA:
        raise ProbeFailure(ErrorKind.UNEXPECTED_REPLY, f"not authoritative for {zone} (no AA flag)")
    rrset = reply.get_rrset(reply.answer, zone, dns.rdataclass.IN, dns.rdatatype.SOA)
    if rrset is None:
        raise ProbeFailure(ErrorKind.EXPECTATION_FAILED, f"no SOA record for {zone}")
    return int(rrset[0].serial)


def _compare(label: str, primary: int, secondary: int, options: SyncOptions) -> tuple[int, _Verdict]:
    """Judge a secondary's serial against the primary's: its lag in serial steps and the verdict."""
    if secondary == primary:
        return 0, _Verdict(Status.OK, f"serial {secondary}, in sync")
    lag = (primary - secondary) % 2 ** 32
    if dns.serial.Serial(secondary) > dns.serial.Serial(primary):
        return 0, _Verdict(Status.WARNING, f"secondary {label} ahead of the primary: {secondary} > {primary}",
                           ErrorKind.EXPECTATION_FAILED)
    if lag == SERIAL_HALF:
        # RFC 1982 leaves this pair unordered; it certainly is not in sync.
        return lag, _Verdict(options.behind_status, f"secondary {label} out of sync: {secondary} <> {primary}",
                             ErrorKind.EXPECTATION_FAILED)
    if lag <= options.allowed_lag:
        return lag, _Verdict(Status.OK, f"serial {secondary}, {lag} behind (allowed {options.allowed_lag})")
    return lag, _Verdict(options.behind_status, f"secondary {label} behind: {secondary} < {primary}",
                         ErrorKind.EXPECTATION_FAILED)


def _in_sync_summary(primary: int, secondaries: list[int], allowed_lag: int) -> str:
    """"serials 2018081801 = 2018081801", or "2018081803 > 2018081801" for a secondary within the allowed lag."""
    if all(serial == primary for serial in secondaries):
        return "serials " + " = ".join(str(serial) for serial in [primary, *secondaries])
    pairs = [f"{primary} = {serial}" if serial == primary else f"{primary} > {serial}" for serial in secondaries]
    return f"serials {', '.join(pairs)} (allowed lag {allowed_lag})"
