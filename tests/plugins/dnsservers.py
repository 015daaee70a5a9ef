"""Nameservers for the DNS checks' tests: dnslib on loopback ephemeral ports, well-behaved or not.

``Zone`` answers from a small zone file like an authoritative server
(NXDOMAIN for names it does not have, NODATA for types it does not have), or
misbehaves on request: no AA flag, a fixed rcode. ``DnsServer`` runs it over
UDP and, unless told otherwise, TCP on the same port. ``GarbageServer`` and
``SilentServer`` are hostile UDP peers.
"""
from __future__ import annotations

import socket
import threading

from dnslib import QTYPE, RCODE, RR, DNSHeader, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer


def zone_text(serial: int = 2018081801, *, origin: str = "example.test.") -> str:
    """The test zone, with the given SOA serial."""
    big_txt = "\n".join(f'big IN TXT "{"filler-%02d-" % n}{"x" * 60}"' for n in range(12))
    return f"""
$ORIGIN {origin}
$TTL 3600
@    IN SOA ns1.{origin} hostmaster.{origin} {serial} 7200 3600 1209600 3600
@    IN NS  ns1
@    IN NS  ns2.example.net.
@    IN MX  10 mail.example.net.
@    IN TXT "v=spf1 mx -all"
www  IN A   192.0.2.10
www  IN A   192.0.2.20
www  IN AAAA 2001:db8::10
ftp  IN CNAME www
{big_txt}
"""


class Zone(BaseResolver):
    """An authoritative answerer for one zone file.

    :param authoritative: set the AA flag (a lame server does not).
    :param rcode: answer every query with this rcode (e.g. ``RCODE.REFUSED``) and no records.
    """

    def __init__(self, text: str, *, authoritative: bool = True, rcode: int | None = None) -> None:
        self.records = RR.fromZone(text)
        self.authoritative = authoritative
        self.rcode = rcode
        self.requests: list[DNSRecord] = []

    def resolve(self, request, handler):
        self.requests.append(request)
        reply = request.reply(ra=0, aa=int(self.authoritative))
        if self.rcode is not None:
            reply.header.rcode = self.rcode
            return reply
        name, qtype = request.q.qname, request.q.qtype
        if not any(record.rname == name for record in self.records):
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        # A CNAME stands in for every type at its name; then the answer goes on at the target.
        for _ in range(8):
            matches = [record for record in self.records if record.rname == name and record.rtype == qtype]
            aliases = [record for record in self.records if record.rname == name and record.rtype == QTYPE.CNAME]
            for record in matches or aliases:
                reply.add_answer(record)
            if matches or not aliases:
                break
            name = aliases[0].rdata.label
        return reply


class _Handler(DNSHandler):
    """dnslib's handler, but a truncated UDP answer keeps its question, as real servers' do."""

    def get_reply(self, data: bytes) -> bytes:
        reply = self.server.resolver.resolve(DNSRecord.parse(data), self)
        packed = reply.pack()
        if self.protocol == "udp" and self.udplen and len(packed) > self.udplen:
            packed = DNSRecord(DNSHeader(id=reply.header.id, bitmap=reply.header.bitmap, tc=1), q=reply.q).pack()
        return packed


def _quiet() -> DNSLogger:
    return DNSLogger(logf=lambda message: None)


class DnsServer:
    """``resolver`` served over UDP and (with ``tcp``) TCP on one ephemeral port of ``host``.

    :param udplen: truncate UDP answers longer than this many bytes (0: never), setting TC.
    """

    def __init__(self, resolver: BaseResolver, *, host: str = "127.0.0.1", tcp: bool = True,
                 udplen: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"udplen": udplen})
        self.host = host
        self._servers: list[DNSServer] = []
        for _ in range(20):
            udp = DNSServer(resolver, address=host, port=0, handler=handler, logger=_quiet())
            self.port: int = udp.server.server_address[1]
            try:
                servers = [udp] + ([DNSServer(resolver, address=host, port=self.port, tcp=True, handler=handler,
                                              logger=_quiet())] if tcp else [])
            except OSError:  # that TCP port is taken: try another pair
                udp.server.server_close()
                continue
            self._servers = servers
            break
        else:
            raise RuntimeError("no free UDP+TCP port pair on loopback")
        self._threads = [threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.05},
                                          daemon=True) for server in self._servers]
        for thread in self._threads:
            thread.start()

    @property
    def address(self) -> str:
        """``host:port`` as the sync check's secondaries setting writes it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def close(self) -> None:
        for server in self._servers:
            server.stop()
            server.server.server_close()
        for thread in self._threads:
            thread.join(timeout=3)


class _UdpPeer:
    """A UDP socket on loopback with a thread answering each datagram through ``answer``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def answer(self, datagram: bytes) -> bytes | None:
        raise NotImplementedError

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
        self._sock.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                datagram, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            reply = self.answer(datagram)
            if reply is not None:
                self._sock.sendto(reply, peer)


class GarbageServer(_UdpPeer):
    """Answers with the query's ID and then bytes that are no DNS message."""

    def answer(self, datagram: bytes) -> bytes:
        return datagram[:2] + b"\x84\x00\x00\x01\xff\xffgarbage, not a DNS message"


class SilentServer(_UdpPeer):
    """Reads every query and never answers."""

    def answer(self, datagram: bytes) -> None:
        return None
