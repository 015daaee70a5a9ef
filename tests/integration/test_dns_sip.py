"""DNS checks against two nsd instances and SIP checks against kamailio.

The nsd "secondary" transfers sync.ninerstatus.test from the primary (serials
equal) and still serves an older copy of ninerstatus.test (serials differ).
kamailio answers OPTIONS 200 on UDP, TCP and TLS, and 503 on its degraded port.
"""
from __future__ import annotations

import socket

import pytest

from ninerstatus import ErrorKind, Status, TlsMode

from ..probing.servers import closed_port
from .conftest import probe

pytestmark = pytest.mark.integration


def test_dns_record_matches_exactly_over_udp_and_tcp_with_aa(services):
    result = probe("dns", "dns", services.port("DNS_PRIMARY"), name=f"www.{services['DNS_ZONE']}",
                   rdtype="A", expect="127.0.0.1\n127.0.0.2")
    assert result.status is Status.OK and "UDP+TCP" in result.summary, result.summary


@pytest.mark.parametrize("rdtype, expect", [("A", "127.0.0.3"), ("TXT", '"v=spf1 mx"')])
def test_dns_record_that_differs_is_an_expectation_failure(services, rdtype, expect):
    # The zone's TXT is "v=spf1 mx -all": a substring of it must not pass as a match.
    result = probe("dns", "dns", services.port("DNS_PRIMARY"), name=services["DNS_ZONE"] if rdtype == "TXT"
                   else f"www.{services['DNS_ZONE']}", rdtype=rdtype, expect=expect)
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.EXPECTATION_FAILED


@pytest.mark.parametrize("name, rcode", [("nothing.ninerstatus.test", "NXDOMAIN"), ("example.com", "REFUSED")])
def test_dns_probe_reports_the_rcode(services, name, rcode):
    result = probe("dns", "dns", services.port("DNS_PRIMARY"), name=name, rdtype="A")
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.UNEXPECTED_REPLY
    assert rcode in result.summary


def test_dns_sync_reports_the_serial_mismatch_between_primary_and_secondary(services):
    result = probe("dns", "dns_sync", services.port("DNS_PRIMARY"), zone=services["DNS_ZONE"],
                   secondaries=f"127.0.0.1:{services.port('DNS_SECONDARY')}")
    assert result.status is Status.WARNING and result.error_kind is ErrorKind.EXPECTATION_FAILED
    assert services["DNS_PRIMARY_SERIAL"] in result.summary and services["DNS_SECONDARY_SERIAL"] in result.summary


def test_dns_sync_allows_the_configured_lag(services):
    result = probe("dns", "dns_sync", services.port("DNS_PRIMARY"), zone=services["DNS_ZONE"],
                   secondaries=f"127.0.0.1:{services.port('DNS_SECONDARY')}", allowed_lag="1")
    assert result.status is Status.OK, result.summary


def test_dns_sync_is_ok_for_a_transferred_zone(services):
    result = probe("dns", "dns_sync", services.port("DNS_PRIMARY"), zone=services["DNS_SYNC_ZONE"],
                   secondaries=f"127.0.0.1:{services.port('DNS_SECONDARY')}")
    serial = services["DNS_SYNC_SERIAL"]
    assert result.status is Status.OK and result.summary == f"serials {serial} = {serial}"


def test_dns_sync_reports_a_secondary_that_is_down_as_refused_at_once(services):
    down = closed_port(socket.SOCK_DGRAM)
    # 30 s: the ICMP port unreachable comes at once; a probe deaf to it would end in read_timeout.
    result = probe("dns", "dns_sync", services.port("DNS_PRIMARY"), zone=services["DNS_SYNC_ZONE"], timeout=30,
                   secondaries=f"127.0.0.1:{services.port('DNS_SECONDARY')}, 127.0.0.1:{down}")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED), result.summary
    assert [sub.status for sub in result.subchecks] == [Status.OK, Status.CRITICAL]


@pytest.mark.parametrize("transport, port, tls", [
    ("udp", "SIP", TlsMode.NONE), ("tcp", "SIP", TlsMode.NONE), ("tls", "SIPS", TlsMode.IMPLICIT),
])
def test_sip_options_gets_200_from_kamailio(services, transport, port, tls):
    result = probe("sip", "sip", services.port(port), tls=tls, policy=services.trusting, transport=transport)
    assert result.status is Status.OK and result.summary.startswith("OPTIONS 200"), result.summary


def test_sip_503_is_degraded(services):
    result = probe("sip", "sip", services.port("SIP_DEGRADED"), transport="udp")
    assert result.status is Status.WARNING and "503" in result.summary


def test_sip_over_tls_does_not_trust_the_private_ca_by_default(services):
    result = probe("sip", "sip", services.port("SIPS"), tls=TlsMode.IMPLICIT, transport="tls")
    assert result.error_kind is ErrorKind.CERT_UNTRUSTED
