"""The HTTP(S) check against a real threaded web server on loopback, and against hostile peers."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from ninerstatus.checktypes import CheckTypeError
from ninerstatus.probing import ErrorKind, Family, Status, Target, TlsMode, TlsPolicy, run_probe
from ninerstatus_plugins import http as http_plugin
from ninerstatus_plugins.http import may_redirect, network_rank

from ..probing.conftest import server_tls
from ..probing.servers import Peer
from .webservers import WELCOME, WebServer

TIMEOUT = 1.0
(HTTP,) = http_plugin.ninerstatus_check_types()


@pytest.fixture
def web(start):
    """``web(host=..., tls=...)`` starts a ``WebServer`` for the test."""
    return lambda **options: start(WebServer, **options)


@pytest.fixture
def site(web):
    """The plain-HTTP site on 127.0.0.1."""
    return web()


@pytest.fixture
def tls_site(web, ca):
    """The site over implicit TLS, with a valid certificate for 127.0.0.1, ::1 and localhost."""
    return web(tls=server_tls(ca, "127.0.0.1", "::1", "localhost"))


def probe(port, *, host="127.0.0.1", tls=TlsMode.NONE, family=Family.ANY, policy=TlsPolicy(), timeout=TIMEOUT,
          **settings):
    """Run the HTTP check with text settings, as the CLI and the admin form give them."""
    return run_probe(HTTP.probe, Target(host, port, family, tls), HTTP.parse_settings(settings), timeout,
                     tls_policy=policy)


def redirect_to(url, code=302):
    """The path on the test site that redirects to ``url``."""
    return f"/to?url={quote(url, safe='')}&code={code}"


# ---------------------------------------------------------------- plain HTTP

def test_http_probe_reports_status_server_and_phases(site):
    result = probe(site.port)
    assert result.status is Status.OK, result.summary
    assert re.fullmatch(r"200 OK in \d+ ms", result.summary)
    assert result.details["server"] == "ninertest/1.0"
    assert result.details["content_type"] == "text/html; charset=utf-8"
    assert result.details["bytes_read"] == len(WELCOME) and result.metrics["size"] == len(WELCOME)
    timings = result.timings
    assert None not in (timings.resolve, timings.connect, timings.first_byte) and timings.tls is None
    assert result.transcript[0] == "C: GET / HTTP/1.1" and "S: HTTP/1.1 200 OK" in result.transcript


@pytest.mark.parametrize(("path", "statuses", "status"), [
    ("/status/503", "200-299", Status.CRITICAL),
    ("/status/404", "200-299", Status.CRITICAL),
    ("/status/401", "200-299,301,401", Status.OK),
    ("/status/404", "2xx,4xx", Status.OK),
    ("/status/204", "200-299", Status.OK),
    ("/status/500", "200-299,401", Status.CRITICAL),
])
def test_http_status_is_judged_against_the_accepted_set(site, path, statuses, status):
    result = probe(site.port, path=path, status=statuses)
    assert result.status is status, result.summary
    assert result.details["status"] == int(path.rsplit("/", 1)[1])
    if status is Status.CRITICAL:
        assert result.error_kind is ErrorKind.UNEXPECTED_REPLY
        assert result.summary.endswith(f", expected {statuses}")


def test_http_critical_summary_names_status_and_reason(site):
    result = probe(site.port, path="/status/503")
    assert result.summary == "503 Service Unavailable, expected 200-299"


@pytest.mark.parametrize(("settings", "status"), [
    ({"expect_body": "Welcome to example.test"}, Status.OK),
    ({"expect_body": "Goodbye"}, Status.CRITICAL),
    ({"expect_regex": r"build \d{4}"}, Status.OK),
    ({"expect_regex": r"build [a-z]+"}, Status.CRITICAL),
    ({"expect_body": "Welcome", "expect_regex": "^nothing$"}, Status.CRITICAL),
])
def test_http_body_text_and_regex_must_match(site, settings, status):
    result = probe(site.port, **settings)
    assert result.status is status, result.summary
    if status is Status.CRITICAL:
        assert result.error_kind is ErrorKind.EXPECTATION_FAILED
        assert result.summary.startswith("body does not")


def test_http_reads_chunked_bodies(site):
    result = probe(site.port, path="/chunked", expect_body="the needle")
    assert result.status is Status.OK, result.summary
    assert result.details["bytes_read"] == len(b"<html><p>chunk one</p><p>the needle</p></html>")
    assert "-- body: 46 bytes (chunked)" in result.transcript


def test_http_reads_at_most_max_body_bytes(site):
    result = probe(site.port, path="/big?size=200000", max_body="1000", expect_body="x" * 1000)
    assert result.status is Status.OK, result.summary
    assert (result.details["bytes_read"], result.details["body_truncated"]) == (1000, True)
    beyond = probe(site.port, path="/big?size=200000", max_body="1000", expect_body="x" * 1001)
    assert (beyond.status, beyond.error_kind) == (Status.CRITICAL, ErrorKind.EXPECTATION_FAILED)
    assert "(first 1000 bytes read)" in beyond.summary


def test_http_head_request_reads_no_body(site):
    result = probe(site.port, method="HEAD")
    assert result.status is Status.OK, result.summary
    assert result.details["bytes_read"] == 0 and result.transcript[0] == "C: HEAD / HTTP/1.1"


def test_http_head_with_a_body_expectation_is_refused(site):
    with pytest.raises(CheckTypeError, match="HEAD response has no body"):
        HTTP.parse_settings({"method": "HEAD", "expect_regex": "Welcome"})
    # Settings stored before this rule, say, still never reach the server.
    result = run_probe(HTTP.probe, Target("127.0.0.1", site.port), {"method": "HEAD", "expect_body": "Welcome"},
                       TIMEOUT)
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)
    assert result.timings.connect is None


def test_http_host_header_can_be_overridden(site):
    default = probe(site.port, path="/echo", expect_body=f"host=127.0.0.1:{site.port} ")
    assert default.status is Status.OK, default.summary
    named = probe(site.port, path="/echo", host_header="www.example.test", expect_body="host=www.example.test ")
    assert named.status is Status.OK, named.summary


# ---------------------------------------------------------------- redirects

def test_http_follows_a_redirect_chain(site):
    result = probe(site.port, path="/redirect/3")
    assert result.status is Status.OK, result.summary
    assert re.fullmatch(r"200 OK in \d+ ms after 3 redirects", result.summary)
    assert result.details["redirects"] == tuple(site.url(f"/redirect/{n}") for n in (2, 1, 0))
    assert result.details["url"] == site.url("/redirect/0") and result.metrics["redirects"] == 3


def test_http_too_many_redirects_is_critical(site):
    result = probe(site.port, path="/redirect/6")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary == "more than 5 redirects"
    assert probe(site.port, path="/redirect/6", max_redirects="6").status is Status.OK


def test_http_redirect_loop_is_critical(site):
    result = probe(site.port, path="/loop", max_redirects="20")
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary == f"redirect loop: {site.url('/loop')} again"


def test_http_without_following_redirects_judges_the_redirect_itself(site):
    result = probe(site.port, path="/redirect/1", max_redirects="0", status="302")
    assert result.status is Status.OK and result.details["status"] == 302
    assert "redirects" not in result.details


@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://100.100.100.200/latest/meta-data/",  # another cloud's metadata, in shared address space
])
def test_http_never_follows_a_redirect_to_a_disallowed_address(site, url):
    result = probe(site.port, path=redirect_to(url))
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert result.summary.endswith("not followed: address not allowed for a redirect")
    assert result.timings.connect < TIMEOUT  # refused before any connection was tried there


@pytest.mark.parametrize(("location", "reason"), [
    ("ftp://127.0.0.1/file", "scheme 'ftp' is not http or https"),
    ("file:///etc/passwd", "scheme 'file' is not http or https"),
    ("http://bad host/", "not followed"),
    ("http://127.0.0.1:99999/", "not followed"),
])
def test_http_never_follows_a_redirect_to_another_scheme_or_a_broken_url(site, location, reason):
    result = probe(site.port, path=redirect_to(location))
    assert (result.status, result.error_kind) == (Status.CRITICAL, ErrorKind.UNEXPECTED_REPLY)
    assert reason in result.summary


def test_http_follows_a_redirect_to_another_host_on_the_same_network_and_to_https(site, tls_site, ca_file):
    result = probe(site.port, path=redirect_to(f"https://localhost:{tls_site.port}/echo", 301),
                   policy=TlsPolicy(ca_file=ca_file), expect_body=f"host=localhost:{tls_site.port} ")
    assert result.status is Status.OK, result.summary
    assert re.fullmatch(r"200 OK in \d+ ms after 1 redirect, certificate \d+ days", result.summary)
    assert result.tls is not None and result.tls.verified and result.timings.tls is not None


@pytest.mark.parametrize(("code", "method"), [(303, "GET"), (302, "GET"), (307, "POST"), (308, "POST")])
def test_http_redirect_after_post_changes_the_method_as_browsers_do(site, code, method):
    result = probe(site.port, method="POST", path=redirect_to("/echo", code), expect_body=f"method={method} ")
    assert result.status is Status.OK, result.summary


@pytest.mark.parametrize(("address", "rank"), [
    ("8.8.8.8", 0), ("2001:4860:4860::8888", 0), ("10.1.2.3", 1), ("192.168.1.1", 1), ("fd00:ec2::254", 1),
    ("127.0.0.1", 2), ("::1", 2), ("169.254.169.254", None), ("::ffff:169.254.169.254", None),
    ("fe80::1%eth0", None), ("100.100.100.200", None), ("224.0.0.1", None), ("0.0.0.0", None), ("::", None),
])
def test_network_rank_orders_addresses_from_public_to_loopback(address, rank):
    assert network_rank(address) == rank


@pytest.mark.parametrize(("origin", "destination", "allowed"), [
    ("8.8.8.8", "1.1.1.1", True),
    ("8.8.8.8", "10.0.0.5", False),  # a public site must not send the probe into our private network
    ("8.8.8.8", "127.0.0.1", False),
    ("10.0.0.1", "10.0.0.5", True),
    ("10.0.0.1", "8.8.8.8", True),
    ("10.0.0.1", "127.0.0.1", False),
    ("127.0.0.1", "10.0.0.5", True),
    ("127.0.0.1", "169.254.169.254", False),
    ("169.254.0.9", "8.8.8.8", True),  # an odd origin counts as public
    ("169.254.0.9", "169.254.169.254", False),
])
def test_redirects_lead_only_to_networks_no_more_private_than_the_origin(origin, destination, allowed):
    assert may_redirect(origin, destination) is allowed


# ---------------------------------------------------------------- TLS

def test_https_probe_verifies_the_certificate_and_reports_its_days(tls_site, ca_file):
    result = probe(tls_site.port, tls=TlsMode.IMPLICIT, policy=TlsPolicy(ca_file=ca_file))
    assert result.status is Status.OK, result.summary
    assert re.fullmatch(r"200 OK in \d+ ms, certificate 6[12] days", result.summary)
    assert result.tls.verified and result.tls.hostname_ok
    assert result.timings.tls is not None and result.metrics["cert_days_left"] >= 61


@pytest.mark.parametrize(("identities", "options", "kind"), [
    (("127.0.0.1",), {"expired": True}, ErrorKind.CERT_EXPIRED),
    (("other.test",), {}, ErrorKind.CERT_HOSTNAME),
    (("127.0.0.1",), {"stranger": True}, ErrorKind.CERT_UNTRUSTED),
    (("127.0.0.1",), {"days": 3}, ErrorKind.CERT_EXPIRING),
])
def test_https_certificate_problems_have_their_own_kinds(web, ca, stranger_ca, ca_file, identities, options, kind):
    issuer = stranger_ca if options.pop("stranger", False) else ca
    server = web(tls=server_tls(issuer, *identities, **options))
    result = probe(server.port, tls=TlsMode.IMPLICIT, policy=TlsPolicy(ca_file=ca_file))
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


def test_https_certificate_close_to_expiry_is_a_warning(web, ca, ca_file):
    server = web(tls=server_tls(ca, "127.0.0.1", days=14))
    result = probe(server.port, tls=TlsMode.IMPLICIT, policy=TlsPolicy(ca_file=ca_file))
    assert (result.status, result.error_kind) == (Status.WARNING, ErrorKind.CERT_EXPIRING)
    assert result.summary.endswith("certificate 13 days")


def test_https_without_verification_accepts_an_unknown_ca(web, stranger_ca):
    server = web(tls=server_tls(stranger_ca, "127.0.0.1"))
    result = probe(server.port, tls=TlsMode.IMPLICIT, policy=TlsPolicy(verify=False))
    assert result.status is Status.OK and not result.tls.verified


def test_https_on_port_443_is_the_default():
    assert (HTTP.default_port, HTTP.default_tls(443), HTTP.default_tls(80)) == (443, TlsMode.IMPLICIT, TlsMode.NONE)


def test_http_has_no_starttls(site):
    result = probe(site.port, tls=TlsMode.STARTTLS)
    assert (result.status, result.error_kind) == (Status.UNKNOWN, ErrorKind.CONFIG_ERROR)


# ---------------------------------------------------------------- address family

def test_http_probe_works_over_ipv6(web):
    server = web(host="::1")
    result = probe(server.port, host="::1")
    assert result.status is Status.OK, result.summary
    assert result.details["address"] == "::1" and result.details["url"] == server.url("/")


def test_http_address_family_comes_from_the_target(site):
    assert probe(site.port, host="localhost", family=Family.IPV4).details["address"] == "127.0.0.1"
    # The site listens on IPv4 only: over IPv6, localhost either has no address or refuses.
    ipv6 = probe(site.port, host="localhost", family=Family.IPV6)
    assert ipv6.status is Status.CRITICAL
    assert ipv6.error_kind in (ErrorKind.RESOLVE_FAILED, ErrorKind.CONNECT_REFUSED)


# ---------------------------------------------------------------- hostile and odd peers

def read_request(peer: Peer) -> None:
    while peer.read_line():
        pass


def silent(peer: Peer) -> None:
    peer.idle()


def drip_headers(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"HTTP/1.1 200 OK\r\nX-Drip: ")
    while not peer.stop.wait(0.1):
        peer.send(b"d")


def endless_header(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"HTTP/1.1 200 OK\r\nX-Long: ")
    while not peer.stop.is_set():
        peer.send(b"A" * 65536)


def garbage_status(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    peer.idle()


def too_many_headers(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"HTTP/1.1 200 OK\r\n" + b"X-Many: yes\r\n" * 1000 + b"\r\n")
    peer.idle()


def closes_without_answer(peer: Peer) -> None:
    read_request(peer)


def short_body(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")


def bad_chunk(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    peer.idle()


def conflicting_lengths(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
    peer.idle()


def endless_body(peer: Peer) -> None:
    read_request(peer)
    peer.send(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000000\r\n\r\n")
    while not peer.stop.is_set():
        peer.send(b"z" * 65536)


def tls_hello_then_close(peer: Peer) -> None:
    peer.conn.recv(4096)
    peer.conn.close()


@pytest.mark.parametrize(("script", "tls", "settings", "kind"), [
    pytest.param(silent, TlsMode.NONE, {}, ErrorKind.READ_TIMEOUT, id="silent-after-accept"),
    pytest.param(drip_headers, TlsMode.NONE, {}, ErrorKind.READ_TIMEOUT, id="drip-fed-headers"),
    pytest.param(endless_header, TlsMode.NONE, {}, ErrorKind.PROTOCOL_ERROR, id="endless-header-line"),
    pytest.param(garbage_status, TlsMode.NONE, {}, ErrorKind.PROTOCOL_ERROR, id="garbage-status-line"),
    pytest.param(too_many_headers, TlsMode.NONE, {}, ErrorKind.PROTOCOL_ERROR, id="too-many-headers"),
    pytest.param(closes_without_answer, TlsMode.NONE, {}, ErrorKind.PROTOCOL_ERROR, id="closes-without-answer"),
    pytest.param(short_body, TlsMode.NONE, {}, ErrorKind.PROTOCOL_ERROR, id="body-shorter-than-announced"),
    pytest.param(bad_chunk, TlsMode.NONE, {}, ErrorKind.PROTOCOL_ERROR, id="bad-chunk-size"),
    pytest.param(conflicting_lengths, TlsMode.NONE, {}, ErrorKind.PROTOCOL_ERROR, id="conflicting-lengths"),
    pytest.param(endless_body, TlsMode.NONE, {"expect_body": "needle"}, ErrorKind.EXPECTATION_FAILED,
                 id="huge-body-without-the-text"),
    pytest.param(silent, TlsMode.IMPLICIT, {}, ErrorKind.READ_TIMEOUT, id="silent-during-tls-handshake"),
    pytest.param(tls_hello_then_close, TlsMode.IMPLICIT, {}, ErrorKind.TLS_HANDSHAKE, id="tls-mid-handshake-close"),
])
def test_hostile_peer_gets_the_right_error_within_the_timeout(serve, script, tls, settings, kind):
    server = serve(script)
    result = probe(server.port, tls=tls, **settings)
    # The probe's own verdict, so within its timeout and the watchdog's grace (the watchdog's would be UNKNOWN).
    assert (result.status, result.error_kind) == (Status.CRITICAL, kind), result.summary


def test_huge_body_is_read_only_up_to_the_limit(serve):
    server = serve(endless_body)
    result = probe(server.port, max_body="65536")
    assert result.status is Status.OK, result.summary  # not a timeout: it stopped reading at the limit
    assert (result.details["bytes_read"], result.details["body_truncated"]) == (65536, True)


def test_http_1_0_body_ends_when_the_server_closes(serve):
    def legacy(peer: Peer) -> None:
        read_request(peer)
        peer.send(b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nhello")

    result = probe(serve(legacy).port, expect_body="hello")
    assert result.status is Status.OK, result.summary
    assert (result.details["http_version"], result.details["bytes_read"]) == ("1.0", 5)


def test_interim_1xx_responses_are_skipped(serve):
    def continues(peer: Peer) -> None:
        read_request(peer)
        peer.send(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        peer.idle()

    result = probe(serve(continues).port, expect_body="ok")
    assert result.status is Status.OK and result.details["status"] == 200


# ---------------------------------------------------------------- settings and command line

@pytest.mark.parametrize(("settings", "field"), [
    ({"path": "health"}, "path"),
    ({"path": "/a b"}, "path"),
    ({"path": "/x\r\nInjected: yes"}, "path"),
    ({"path": "/page#top"}, "path"),
    ({"status": "299-200"}, "status"),
    ({"status": "ok"}, "status"),
    ({"status": "600"}, "status"),
    ({"expect_regex": "(unclosed"}, "expect_regex"),
    ({"host_header": "www.example.test\r\nX-Evil: 1"}, "host_header"),
    ({"host_header": "www.example.test:99999"}, "host_header"),
    ({"host_header": "-oProxyCommand"}, "host_header"),
    ({"method": "TRACE"}, "method"),
    ({"max_body": "0"}, "max_body"),
    ({"max_redirects": "21"}, "max_redirects"),
])
def test_http_settings_refuse_what_the_probe_must_not_send(settings, field):
    with pytest.raises(CheckTypeError, match=field):
        HTTP.parse_settings(settings)


def test_http_settings_defaults():
    assert HTTP.parse_settings({}) == {"method": "GET", "path": "/", "host_header": None, "status": "200-299",
                                       "expect_body": None, "expect_regex": None, "max_body": 1024 * 1024,
                                       "max_redirects": 5}
    assert HTTP.parse_settings({"host_header": "[2001:db8::1]:8080"})["host_header"] == "[2001:db8::1]:8080"


def test_check_command_speaks_nagios_for_https(cli, tls_site, ca_file):
    result = cli.invoke(args=["check", "http", "--host", "127.0.0.1", "--port", str(tls_site.port), "--tls",
                              "implicit", "--ca-file", ca_file, "--nagios"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1
    assert re.match(r"HTTP OK - 200 OK in \d+ ms, certificate \d+ days \| 'time_resolve'=", lines[0])
    assert all(f"'{label}'=" in lines[0] for label in ("time", "time_tls", "time_first_byte", "cert_days_left"))


def test_check_command_exits_critical_for_a_status_outside_the_set(cli, site):
    result = cli.invoke(args=["check", "http", "--host", "127.0.0.1", "--port", str(site.port),
                              "-o", "path=/status/503", "--nagios"])
    assert result.exit_code == 2
    assert result.output.startswith("HTTP CRITICAL - 503 Service Unavailable, expected 200-299 (unexpected_reply)")
