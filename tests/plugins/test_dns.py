"""The DNS checks against dnslib nameservers on loopback: record queries and zone sync."""
from __future__ import annotations

import re
import socket
import time

import pytest
from dnslib import RCODE

from ninerstatus.checktypes import CheckTypeError
from ninerstatus.probing import ErrorKind, Status, Target, run_probe
from ninerstatus_plugins import dns as dns_plugin
from ninerstatus_plugins._dns_query import parse_server_list

from ..probing.servers import closed_port
from .dnsservers import DnsServer, GarbageServer, SilentServer, Zone, zone_text

TIMEOUT = 1.0
#: For probes that must end at once (a closed port's ICMP answer, a garbage reply): one that
#: waited would only end after this long, which no loaded machine takes.
PATIENT = 30.0
DNS, SYNC = dns_plugin.ninerstatus_check_types()


@pytest.fixture
def nameserver(start):
    """An authoritative server for example.test (serial 2018081801) over UDP and TCP."""
    return start(DnsServer, Zone(zone_text()))


def probe(check_type, port, *, host="127.0.0.1", timeout=TIMEOUT, **settings):
    """Run ``check_type`` against ``host:port`` with text settings, as the CLI and the admin form give them."""
    return run_probe(check_type.probe, Target(host, port), check_type.parse_settings(settings), timeout)


def timed(check_type, port, **settings):
    started = time.monotonic()
    result = probe(check_type, port, **settings)
    return result, time.monotonic() - started


# ---------------------------------------------------------------- record queries

def test_dns_probe_finds_the_expected_record_over_udp_and_tcp(nameserver):
    result = probe(DNS, nameserver.port, name="www.example.test", expect="192.0.2.10")
    assert result.status is Status.OK, result.summary
    assert result.summary.startswith("A 192.0.2.10, 192.0.2.20 (authoritative, UDP+TCP) in ")
    assert [(sub.name, sub.status) for sub in result.subchecks] == [("udp", Status.OK), ("tcp", Status.OK)]
    assert result.details["rcode"] == "NOERROR" and result.details["tcp"]["aa"] is True
    assert result.timings.first_byte is not None and result.timings.connect is not None
    assert {"udp_time", "tcp_time"} <= set(result.metrics)


def test_dns_probe_asks_without_recursion(start):
    zone = Zone(zone_text())
    server = start(DnsServer, zone)
    probe(DNS, server.port, name="www.example.test", transport="udp")
    assert [request.header.rd for request in zone.requests] == [0]


@pytest.mark.parametrize(("expect", "status"), [
    ("192.0.2.1", Status.CRITICAL),  # a substring of 192.0.2.10, which must not count
    ("192.0.2.10", Status.OK),
    ("192.0.2.10, 192.0.2.20", Status.OK),
    ("192.0.2.10\n192.0.2.30", Status.CRITICAL),
])
def test_dns_expected_records_are_compared_exactly_not_as_substrings(nameserver, expect, status):
    result = probe(DNS, nameserver.port, name="www.example.test", expect=expect)
    assert result.status is status, result.summary
    if status is Status.CRITICAL:
        assert result.error_kind is ErrorKind.EXPECTATION_FAILED
        assert "missing 192.0.2." in result.summary and "answer: 192.0.2.10, 192.0.2.20" in result.summary


@pytest.mark.parametrize(("name", "rdtype", "expect"), [
    ("example.test", "MX", "10 MAIL.example.net"),  # no final dot, other case: the same record
    ("www.example.test", "AAAA", "2001:0db8:0:0::10"),
    ("example.test", "TXT", "v=spf1 mx -all"),  # unquoted TXT is one string
    ("example.test", "TXT", '"v=spf1 mx -all"'),
    ("example.test", "NS", "ns1.example.test., ns2.example.net."),
])
def test_dns_expected_records_are_normalised_before_comparing(nameserver, name, rdtype, expect):
    result = probe(DNS, nameserver.port, name=name, rdtype=rdtype, expect=expect)
    assert result.status is Status.OK, result.summary


def test_dns_probe_follows_a_cname_inside_the_answer(nameserver):
    result = probe(DNS, nameserver.port, name="ftp.example.test", expect="192.0.2.20")
    assert result.status is Status.OK, result.summary
    assert result.subchecks[0].summary == "2 A records via www.example.test."


def test_dns_nodata_is_an_expectation_failure(nameserver):
    result = probe(DNS, nameserver.port, name="www.example.test", rdtype="MX")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.EXPECTATION_FAILED)
    assert result.summary == "UDP+TCP: no MX record for www.example.test."


@pytest.mark.parametrize(("rcode", "text"), [
    (None, "NXDOMAIN"), (RCODE.REFUSED, "REFUSED"), (RCODE.SERVFAIL, "SERVFAIL"),
])
def test_dns_error_rcodes_are_critical_with_the_rcode_in_details(start, rcode, text):
    server = start(DnsServer, Zone(zone_text(), rcode=rcode))
    name = "nowhere.example.test" if rcode is None else "www.example.test"
    result = probe(DNS, server.port, name=name)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.details["rcode"] == text
    assert result.summary == f"UDP+TCP: {text} for {name}."


def test_dns_answer_without_aa_flag_is_critical_unless_not_required(start):
    lame = start(DnsServer, Zone(zone_text(), authoritative=False))
    result = probe(DNS, lame.port, name="www.example.test")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert "not authoritative (no AA flag)" in result.summary
    relaxed = probe(DNS, lame.port, name="www.example.test", require_aa="no")
    assert relaxed.status is Status.OK and "(not authoritative, UDP+TCP)" in relaxed.summary


def test_dns_secondary_without_tcp_is_critical(start):
    udp_only = start(DnsServer, Zone(zone_text()), tcp=False)
    result = probe(DNS, udp_only.port, name="www.example.test")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED)
    assert result.summary.startswith("TCP: could not connect")
    assert [(sub.name, sub.status) for sub in result.subchecks] == [("udp", Status.OK), ("tcp", Status.CRITICAL)]
    assert probe(DNS, udp_only.port, name="www.example.test", transport="udp").status is Status.OK


def test_dns_truncated_udp_answer_is_noted_and_judged_over_tcp(start):
    server = start(DnsServer, Zone(zone_text()), udplen=512)
    both = probe(DNS, server.port, name="big.example.test", rdtype="TXT")
    assert both.status is Status.OK, both.summary
    assert both.details["udp"]["truncated"] is True and both.details["tcp"]["truncated"] is False
    assert both.subchecks[0].summary == "truncated, the full answer needs TCP"
    assert "12 more" not in both.summary and "and 9 more" in both.summary
    udp_only = probe(DNS, server.port, name="big.example.test", rdtype="TXT", transport="udp")
    assert (udp_only.status, udp_only.error_kind) == (Status.WARNING, ErrorKind.UNEXPECTED_REPLY)


def test_dns_garbage_reply_is_a_protocol_error(start):
    garbage = start(GarbageServer)
    # At once: with a long timeout, waiting for a proper answer would show.
    result, elapsed = timed(DNS, garbage.port, name="www.example.test", transport="udp", timeout=PATIENT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)
    assert "malformed DNS reply" in result.summary
    assert elapsed < PATIENT / 2


def test_dns_silent_server_times_out_within_the_deadline(start):
    silent = start(SilentServer)
    result, elapsed = timed(DNS, silent.port, name="www.example.test", transport="udp")
    # The probe's own verdict (the watchdog's would be UNKNOWN), and not before the deadline.
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.READ_TIMEOUT)
    assert elapsed > TIMEOUT * 0.9


def test_dns_silent_udp_leaves_tcp_its_share_of_the_deadline(start):
    # UDP and TCP each get half the time, so a silent UDP side cannot hide what TCP says.
    silent = start(SilentServer)
    result, elapsed = timed(DNS, silent.port, name="www.example.test")
    assert [(sub.name, sub.summary.split(" within")[0].split(":")[0]) for sub in result.subchecks] == [
        ("udp", "no answer over UDP"), ("tcp", "could not connect")]
    assert result.metrics == {}  # neither transport got an answer to time
    udp_seconds = float(re.search(r"within ([0-9.]+) s", result.subchecks[0].summary)[1])
    assert udp_seconds <= TIMEOUT / 2 and elapsed > TIMEOUT * 0.45  # UDP waited its half, and only that


def test_dns_tcp_connection_closed_without_answer_is_a_protocol_error(serve):
    server = serve(lambda peer: peer.conn.close())
    result = probe(DNS, server.port, name="www.example.test", transport="tcp")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.PROTOCOL_ERROR)


def test_dns_tcp_server_silent_after_accept_times_out(serve):
    server = serve(lambda peer: peer.idle())
    result = probe(DNS, server.port, name="www.example.test", transport="tcp")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.READ_TIMEOUT)  # not the watchdog's


def test_dns_probe_works_over_ipv6(start):
    server = start(DnsServer, Zone(zone_text()), host="::1")
    result = probe(DNS, server.port, host="::1", name="www.example.test", rdtype="AAAA", expect="2001:db8::10")
    assert result.status is Status.OK, result.summary
    assert result.details["address"] == "::1"


def test_dns_transcript_shows_the_question_and_the_answer(nameserver):
    result = probe(DNS, nameserver.port, name="www.example.test", transport="udp")
    assert result.transcript[0] == (f"C: www.example.test. IN A over UDP to 127.0.0.1:{nameserver.port}, "
                                    f"no recursion")
    assert result.transcript[1] == "S: NOERROR, qr aa, 2 answer records"
    assert "S: www.example.test. 3600 IN A 192.0.2.10" in result.transcript


@pytest.mark.parametrize(("settings", "problem"), [
    ({"name": "www example"}, "not a domain name"),
    ({"name": "www.example.test", "expect": "mail.example.net"}, "is not A record data"),
    ({"name": "www.example.test", "rdtype": "MX", "expect": "mail.example.net"}, "is not MX record data"),
    ({"name": "example.test", "rdtype": "TXT", "expect": '"unclosed'}, "double quote is not closed"),
    ({"name": "www.example.test", "transport": "sctp"}, "transport"),
    ({"name": "www.example.test", "require_aa": "perhaps"}, "require_aa"),
])
def test_dns_settings_refuse_what_the_probe_cannot_use(settings, problem):
    with pytest.raises(CheckTypeError, match=problem):
        DNS.parse_settings(settings)


def test_dns_settings_default_to_both_transports_and_aa_required():
    parsed = DNS.parse_settings({"name": "www.example.test"})
    assert (parsed["transport"], parsed["require_aa"], parsed["rdtype"]) == ("both", True, "A")
    assert DNS.parse_settings({"name": "x.test", "require_aa": "no"})["require_aa"] is False


def test_dns_probe_without_a_name_is_a_config_error():
    result = run_probe(DNS.probe, Target("127.0.0.1", 53), {}, TIMEOUT)
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)


# ---------------------------------------------------------------- zone sync

def test_sync_shows_equal_serials(start):
    primary = start(DnsServer, Zone(zone_text(2018081801)))
    secondary = start(DnsServer, Zone(zone_text(2018081801)))
    result = probe(SYNC, primary.port, zone="example.test", secondaries=secondary.address)
    assert result.status is Status.OK, result.summary
    assert result.summary == "serials 2018081801 = 2018081801"
    assert result.details["primary"]["serial"] == 2018081801
    assert result.details["secondaries"][0]["serial"] == 2018081801
    assert [(sub.name, sub.status) for sub in result.subchecks] == [(secondary.address, Status.OK)]


def test_sync_secondary_behind_is_a_warning_or_critical_as_set(start):
    primary = start(DnsServer, Zone(zone_text(2018081803)))
    secondary = start(DnsServer, Zone(zone_text(2018081801)))
    result = probe(SYNC, primary.port, zone="example.test", secondaries=secondary.address)
    assert (result.status, result.error_kind) == (Status.WARNING, ErrorKind.EXPECTATION_FAILED)
    assert result.summary == f"secondary {secondary.address} behind: 2018081801 < 2018081803"
    assert result.details["secondaries"][0]["lag"] == 2 and result.metrics["max_lag"] == 2
    critical = probe(SYNC, primary.port, zone="example.test", secondaries=secondary.address,
                     behind_status="critical")
    assert critical.status is Status.CRITICAL


def test_sync_allows_the_configured_lag(start):
    primary = start(DnsServer, Zone(zone_text(2018081803)))
    secondary = start(DnsServer, Zone(zone_text(2018081801)))
    result = probe(SYNC, primary.port, zone="example.test", secondaries=secondary.address, allowed_lag="2")
    assert result.status is Status.OK
    assert result.summary == "serials 2018081803 > 2018081801 (allowed lag 2)"


@pytest.mark.parametrize(("primary_serial", "secondary_serial", "status", "summary"), [
    # RFC 1982: after 4294967295 comes 0, then 1, so 1 is newer.
    (1, 4294967295, Status.WARNING, "behind: 4294967295 < 1"),
    (4294967295, 1, Status.WARNING, "ahead of the primary: 1 > 4294967295"),
    (2 ** 31 + 5, 5, Status.WARNING, "out of sync: 5 <> 2147483653"),  # exactly half apart: no order
])
def test_sync_compares_serials_across_the_wrap_around(start, primary_serial, secondary_serial, status, summary):
    primary = start(DnsServer, Zone(zone_text(primary_serial)))
    secondary = start(DnsServer, Zone(zone_text(secondary_serial)))
    result = probe(SYNC, primary.port, zone="example.test", secondaries=secondary.address)
    assert result.status is status
    assert result.summary.endswith(summary)
    within = probe(SYNC, primary.port, zone="example.test", secondaries=secondary.address, allowed_lag="2")
    assert within.status is (Status.OK if "behind" in summary else status)


def test_sync_unreachable_secondary_is_critical_and_the_others_still_count(start):
    primary = start(DnsServer, Zone(zone_text()))
    good = start(DnsServer, Zone(zone_text()))
    silent = start(SilentServer)
    result = probe(SYNC, primary.port, zone="example.test",
                   secondaries=f"{good.address}, 127.0.0.1:{silent.port}")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.READ_TIMEOUT)  # within the deadline
    assert [sub.status for sub in result.subchecks] == [Status.OK, Status.CRITICAL]
    assert result.details["secondaries"][1]["serial"] is None
    assert result.summary.startswith(f"secondary 127.0.0.1:{silent.port}: no answer over UDP")


def test_sync_secondaries_default_to_the_primarys_port(start):
    primary = start(DnsServer, Zone(zone_text()))
    result = probe(SYNC, primary.port, zone="example.test", secondaries="localhost")
    assert result.status is Status.OK, result.summary
    assert result.details["secondaries"][0]["address"] in ("127.0.0.1", "::1")


def test_sync_needs_authoritative_answers_from_every_server(start):
    good = start(DnsServer, Zone(zone_text()))
    lame = start(DnsServer, Zone(zone_text(), authoritative=False))
    lame_primary = probe(SYNC, lame.port, zone="example.test", secondaries=good.address)
    assert (lame_primary.status, lame_primary.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert lame_primary.summary == "primary 127.0.0.1: not authoritative for example.test. (no AA flag)"
    lame_secondary = probe(SYNC, good.port, zone="example.test", secondaries=lame.address)
    assert (lame_secondary.status, lame_secondary.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)


def test_sync_primary_refusing_the_zone_is_critical(start):
    refusing = start(DnsServer, Zone(zone_text(), rcode=RCODE.REFUSED))
    result = probe(SYNC, refusing.port, zone="example.test", secondaries="127.0.0.1:53")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert "REFUSED for the SOA of example.test." in result.summary


def test_server_lists_take_ports_and_bracketed_ipv6():
    assert parse_server_list("ns2.example.net, 192.0.2.53:5353 [2001:db8::53]:54 2001:db8::1", 53) == [
        ("ns2.example.net", "ns2.example.net", 53), ("192.0.2.53:5353", "192.0.2.53", 5353),
        ("[2001:db8::53]:54", "2001:db8::53", 54), ("2001:db8::1", "2001:db8::1", 53)]


@pytest.mark.parametrize("secondaries", [
    "-oProxyCommand=x", "ns2.example.net:0", "ns2:port", "[2001:db8::1", "http://ns2.example.net", "",
    ",".join(f"ns{n}.example.net" for n in range(11)),
])
def test_sync_settings_refuse_bad_secondaries(secondaries):
    with pytest.raises(CheckTypeError, match="secondaries"):
        SYNC.parse_settings({"zone": "example.test", "secondaries": secondaries})


def test_closed_port_on_tcp_only_is_connect_refused():
    result = probe(DNS, closed_port(), name="www.example.test", transport="tcp")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED)


def test_dns_probe_reports_a_closed_udp_port_as_refused_not_as_a_timeout():
    result = probe(DNS, closed_port(socket.SOCK_DGRAM), name="www.example.test", transport="udp", timeout=PATIENT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED), result.summary
    assert result.summary == "UDP: nothing listens on that UDP port (ICMP port unreachable)"


def test_dns_probe_of_a_nameserver_that_is_down_says_so_for_both_transports():
    result = probe(DNS, closed_port(socket.SOCK_DGRAM), name="www.example.test", timeout=PATIENT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED), result.summary
    assert [(sub.name, sub.status) for sub in result.subchecks] == [("udp", Status.CRITICAL),
                                                                   ("tcp", Status.CRITICAL)]
    assert "ICMP port unreachable" in result.subchecks[0].summary


def test_sync_reports_a_secondary_that_is_down_as_refused_and_still_compares_the_others(start):
    primary = start(DnsServer, Zone(zone_text()))
    good = start(DnsServer, Zone(zone_text()))
    down = closed_port(socket.SOCK_DGRAM)
    result = probe(SYNC, primary.port, zone="example.test", secondaries=f"{good.address}, 127.0.0.1:{down}",
                   timeout=PATIENT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED), result.summary
    assert [sub.status for sub in result.subchecks] == [Status.OK, Status.CRITICAL]
    assert result.summary == f"secondary 127.0.0.1:{down}: nothing listens on that UDP port (ICMP port unreachable)"


def test_sync_reports_a_primary_that_is_down_as_refused(start):
    secondary = start(DnsServer, Zone(zone_text()))
    result = probe(SYNC, closed_port(socket.SOCK_DGRAM), zone="example.test", secondaries=secondary.address,
                   timeout=PATIENT)
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.CONNECT_REFUSED), result.summary
    assert result.summary.startswith("primary 127.0.0.1: nothing listens")


def test_check_commands_speak_nagios_for_dns_and_zone_sync(cli, start):
    primary = start(DnsServer, Zone(zone_text(2018081803)))
    secondary = start(DnsServer, Zone(zone_text(2018081801)))
    record = cli.invoke(args=["check", "dns", "--host", "127.0.0.1", "--port", str(primary.port),
                              "-o", "name=www.example.test", "-o", "expect=192.0.2.10", "--nagios"])
    assert record.exit_code == 0, record.output
    assert record.output.startswith("DNS OK - A 192.0.2.10, 192.0.2.20 (authoritative, UDP+TCP) in ")
    assert "'udp_time'=" in record.output and "'time_first_byte'=" in record.output
    sync = cli.invoke(args=["check", "dns_sync", "--host", "127.0.0.1", "--port", str(primary.port),
                            "-o", "zone=example.test", "-o", f"secondaries={secondary.address}", "--nagios"])
    assert sync.exit_code == 1, sync.output
    assert sync.output.startswith(f"DNS_SYNC WARNING - secondary {secondary.address} behind: "
                                  f"2018081801 < 2018081803 (expectation_failed) | ")
    assert "'max_lag'=2;" in sync.output
