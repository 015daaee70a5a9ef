"""The DNS checks: a record query to one nameserver (``dns``) and zone sync between servers (``dns_sync``).

Both ask the nameserver itself, never a resolver: recursion is off, the AA
flag is required (an answer without it is a lame delegation or a cache
talking), the rcode is checked. ``dns`` compares expected records exactly as
record data, never as substrings (192.0.2.1 is not 192.0.2.10), and asks
over UDP and TCP, because secondaries often forget TCP. ``dns_sync`` compares
SOA serials with RFC 1982 arithmetic, so 1 is newer than 4294967295.

This module registers the two check types and their settings; the probes
are in ``_dns_check``, imported with dnspython the first time a DNS check is
probed or its settings checked. Importing dnspython costs more than the rest
of a ``ninerstatus check`` run, which loads every plugin, whatever it probes.
"""
from __future__ import annotations

from collections.abc import Mapping
from types import ModuleType
from typing import Any

from wtforms import (Form, IntegerField, SelectChoice, SelectField, StringField, TextAreaField, ValidationError,
                     validators)
from wtforms.fields import Field

from ninerstatus import CheckType, ProbeResult, Target, TlsMode, hookimpl
from ninerstatus.probing import ProbeContext

from ._settings import checked_by, yes_no_field

RECORD_TYPES = ("A", "AAAA", "CAA", "CNAME", "DNSKEY", "DS", "MX", "NS", "PTR", "SOA", "SRV", "TLSA", "TXT")
#: RFC 1982: two serials further apart than this cannot be ordered.
SERIAL_HALF = 2 ** 31


def _checks() -> ModuleType:
    """The probes and the settings' parsers, with dnspython."""
    from . import _dns_check

    return _dns_check


# ---------------------------------------------------------------- settings

def _domain_name(text: str) -> None:
    _checks().parse_name(text)


def _secondaries(text: str) -> None:
    _checks().server_list(text)


def _expected_records(form: Form, field: Field) -> None:
    """Form validator: the expected records must parse as the chosen record type."""
    if field.data:
        try:
            _checks().parse_expected(field.data, form.rdtype.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None


DNS_SETTINGS = {
    "name": StringField("Name", validators=[validators.DataRequired(), checked_by(_domain_name)],
                        description="The name to look up, e.g. www.example.net"),
    "rdtype": SelectField("Record type", choices=list(RECORD_TYPES), default="A"),
    "expect": TextAreaField("Expected records", validators=[validators.Optional(), _expected_records],
                            description='Records that must be in the answer, one per line or comma-separated, '
                                        'written as in a zone file: 192.0.2.10, "10 mail.example.net.", '
                                        '"v=spf1 -all"'),
    "transport": SelectField("Transport", default="both", choices=[
        SelectChoice("both", "UDP and TCP"), SelectChoice("udp", "UDP"), SelectChoice("tcp", "TCP")]),
    "require_aa": yes_no_field("Require an authoritative answer", default=True,
                               description="The AA flag must be set (the server answers for its own zone)"),
}

SYNC_SETTINGS = {
    "zone": StringField("Zone", validators=[validators.DataRequired(), checked_by(_domain_name)],
                        description="The zone whose SOA serials are compared, e.g. example.net"),
    "secondaries": StringField("Secondaries", validators=[validators.DataRequired(), checked_by(_secondaries)],
                               description="host[:port] of each secondary, comma-separated "
                                           "(port defaults to the primary's)"),
    "allowed_lag": IntegerField("Allowed lag", default=0, validators=[validators.NumberRange(0, SERIAL_HALF - 1)],
                                description="Serial steps a secondary may be behind and still count as in sync"),
    "behind_status": SelectField("A secondary behind is", default="warning", choices=[
        SelectChoice("warning", "WARNING"), SelectChoice("critical", "CRITICAL")]),
}


# ---------------------------------------------------------------- the check types

def probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Ask the nameserver for the records over each transport and judge every answer."""
    return _checks().probe(target, settings, ctx)


def sync_probe(target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Read the zone's SOA serial from the primary and each secondary and compare them."""
    return _checks().sync_probe(target, settings, ctx)


@hookimpl
def ninerstatus_check_types() -> list[CheckType]:
    """The DNS record check and the zone sync check."""
    return [
        CheckType(
            name="dns",
            label="DNS",
            probe=probe,
            default_port=53,
            ports={"dns": 53},
            transports=("udp", "tcp"),
            tls_modes=(TlsMode.NONE,),
            settings=DNS_SETTINGS,
            description="Asks the nameserver itself (no recursion) for a record over UDP and TCP; requires an "
                        "authoritative answer, checks the rcode and compares expected records exactly.",
        ),
        CheckType(
            name="dns_sync",
            label="DNS zone sync",
            probe=sync_probe,
            default_port=53,
            ports={"dns": 53},
            transports=("udp", "tcp"),
            tls_modes=(TlsMode.NONE,),
            settings=SYNC_SETTINGS,
            description="Compares the zone's SOA serial on the primary (the checked host) and its secondaries "
                        "with RFC 1982 arithmetic and an allowed lag.",
        ),
    ]
