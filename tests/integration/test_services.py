"""The integration daemons themselves: each answers its port as the probes expect.

These tests use only the standard library, so a broken daemon shows up here
and not as a confusing plugin failure.
"""
from __future__ import annotations

import socket
import ssl

import pytest

pytestmark = pytest.mark.integration


def _first_line(port: int, *, tls: bool = False, ca_file: str | None = None) -> str:
    sock = socket.create_connection(("127.0.0.1", port), timeout=3)
    if tls:
        sock = ssl.create_default_context(cafile=ca_file).wrap_socket(sock, server_hostname="localhost")
    with sock:
        return sock.makefile("rb").readline().decode()


@pytest.mark.parametrize("name, greeting, tls", [
    ("SMTP_PLAIN", "220 mail.ninerstatus.test ESMTP", False),
    ("SMTP_SUBMISSION", "220 mail.ninerstatus.test ESMTP", False),
    ("SMTPS", "220 mail.ninerstatus.test ESMTP", True),
    ("IMAP", "* OK [CAPABILITY", False),
    ("IMAPS", "* OK [CAPABILITY", True),
    ("POP3", "+OK Dovecot", False),
    ("POP3S", "+OK Dovecot", True),
    ("FTP", "220 ninerstatus integration FTP", False),
])
def test_each_mail_and_ftp_daemon_greets_on_its_port(services, name, greeting, tls):
    assert _first_line(services.port(name), tls=tls, ca_file=services.ca_file).startswith(greeting)


def test_nginx_serves_the_page_over_https_with_the_private_ca(services):
    sock = socket.create_connection(("127.0.0.1", services.port("HTTPS")), timeout=3)
    with ssl.create_default_context(cafile=services.ca_file).wrap_socket(sock, server_hostname="localhost") as tls:
        tls.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        reply = tls.makefile("rb").read()
    assert reply.startswith(b"HTTP/1.1 200") and b"ninerstatus integration page" in reply


def test_nameservers_serve_differing_serials_for_the_lagging_zone(services):
    import dns.message
    import dns.query

    def serial(port: int, zone: str) -> int:
        reply = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1", port=port, timeout=2)
        return reply.answer[0][0].serial

    zone, synced = services["DNS_ZONE"], services["DNS_SYNC_ZONE"]
    assert serial(services.port("DNS_PRIMARY"), zone) == int(services["DNS_PRIMARY_SERIAL"])
    assert serial(services.port("DNS_SECONDARY"), zone) == int(services["DNS_SECONDARY_SERIAL"])
    assert serial(services.port("DNS_PRIMARY"), synced) == serial(services.port("DNS_SECONDARY"), synced)


def test_kamailio_answers_options_over_udp(services):
    port = services.port("SIP")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.bind(("127.0.0.1", 0))
        local = sock.getsockname()[1]
        sock.sendto((f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
                     f"Via: SIP/2.0/UDP 127.0.0.1:{local};rport;branch=z9hG4bKsmoke1\r\n"
                     "From: <sip:smoke@ninerstatus.test>;tag=smoke\r\nTo: <sip:127.0.0.1>\r\n"
                     "Call-ID: smoke-1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode(),
                    ("127.0.0.1", port))
        assert sock.recv(4096).startswith(b"SIP/2.0 200 OK")
