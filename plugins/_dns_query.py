"""Asking one nameserver directly, over UDP or TCP, within the probe's deadline.

dnspython builds and parses the messages and does the exchange; this module
clears the RD flag (we ask the server about its own data, we do not want it
to recurse), always hands dnspython an explicit timeout no longer than the
time left, times the phases, writes the transcript, and turns dnspython's and
the socket's errors into ``ProbeFailure``: no answer in time is READ_TIMEOUT,
a refused TCP connection CONNECT_REFUSED, anything unparsable PROTOCOL_ERROR.

UDP queries go out on a connected socket, as ``dig`` does: the kernel then
passes on only the nameserver's datagrams and reports its ICMP "port
unreachable" at once, so a nameserver that is down is CONNECT_REFUSED in
milliseconds rather than READ_TIMEOUT after the whole budget.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from ninerstatus import ErrorKind, ProbeFailure
from ninerstatus.probing import Deadline, ProbeSession, validate_host, validate_port
from ninerstatus.probing.deadline import Address, open_connection, open_datagram, resolve
from ninerstatus.probing.failure import failure_from_datagram_error, failure_from_os_error

#: The EDNS buffer size of DNS flag day 2020: large enough for most answers, small enough not to fragment.
EDNS_PAYLOAD = 1232
MAX_CNAME_CHAIN = 8
MAX_RECORDS_SHOWN = 20


@dataclass(frozen=True)
class Nameserver:
    """A nameserver as staff named it, and the address it is asked at."""

    label: str
    port: int
    address: Address

    @property
    def ip(self) -> str:
        return self.address[1][0]


def locate(s: ProbeSession, label: str, host: str, port: int) -> Nameserver:
    """Resolve ``host`` (timed as phase "resolve"); the first address is the one asked."""
    with s.phase("resolve"):
        addresses = resolve(host, port, s.target.family, s.deadline)
    return Nameserver(label, port, addresses[0])


def parse_server_list(text: str, default_port: int) -> list[tuple[str, str, int]]:
    """Parse ``host[:port]`` items separated by commas or spaces into (label, host, port).

    IPv6 addresses take a port only in brackets (``[2001:db8::53]:5353``).
    Raises ``ValueError`` naming the first bad item.
    """
    servers = []
    for item in text.replace(",", " ").split():
        host, port = item, default_port
        if item.startswith("["):
            end = item.find("]")
            host, rest = item[:end + 1], item[end + 1:]
            if end == -1 or (rest and not rest.startswith(":")):
                raise ValueError(f"{item!r} is not [IPv6 address] or [IPv6 address]:port")
            port_text = rest[1:] if rest else None
        elif item.count(":") == 1:
            host, port_text = item.split(":")
        else:
            port_text = None
        try:
            if port_text is not None:
                if not port_text.isdigit():
                    raise ValueError(f"port {port_text!r} is not a number")
                port = validate_port(int(port_text))
            servers.append((item, validate_host(host), port))
        except ValueError as error:  # InvalidTarget included
            raise ValueError(f"{item!r}: {error}") from None
    return servers


def ask(s: ProbeSession, server: Nameserver, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType,
        transport: str, budget: float) -> dns.message.Message:
    """Send one non-recursive query for ``qname``/``rdtype`` over ``transport``; return the reply.

    ``budget`` caps the seconds this query may take (the deadline's time left caps it too).
    """
    query = dns.message.make_query(qname, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
    query.flags &= ~dns.flags.RD
    type_text = dns.rdatatype.to_text(rdtype)
    s.transcript.client(f"{qname} IN {type_text} over {transport.upper()} to {server.label}, no recursion")
    deadline = Deadline(min(budget, s.deadline.remaining()))
    try:
        if transport == "udp":
            with open_datagram(server.address) as sock, s.phase("first_byte"):
                reply = _over_udp(sock, query, deadline)
        else:
            with s.phase("connect"):
                sock = open_connection([server.address], deadline)
            try:
                sock.setblocking(False)  # dnspython waits on it with its own selector and our timeout
                with s.phase("first_byte"):
                    reply = dns.query.tcp(query, server.ip, timeout=deadline.remaining(), sock=sock)
            finally:
                sock.close()
    except dns.exception.Timeout:
        raise ProbeFailure(ErrorKind.READ_TIMEOUT, f"no answer over {transport.upper()} "
                                                   f"within {deadline.seconds:.1f} s") from None
    except EOFError:
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR, "the server closed the TCP connection without an answer") from None
    except (dns.exception.DNSException, ValueError) as error:
        # FormError, ShortHeader, BadResponse (wrong ID or question), UnexpectedSource, TrailingJunk...
        raise ProbeFailure(ErrorKind.PROTOCOL_ERROR,
                           f"malformed DNS reply over {transport.upper()}: {error or type(error).__name__}") from None
    except OSError as error:  # e.g. ICMP port unreachable, a reset TCP connection or an unreachable network
        raise (failure_from_datagram_error(error) if transport == "udp" else failure_from_os_error(error)) from error
    _record(s, reply)
    return reply


def _over_udp(sock: socket.socket, query: dns.message.Message, deadline: Deadline) -> dns.message.Message:
    """Send ``query`` on the connected datagram ``sock`` and return the answer to it."""
    sock.setblocking(False)  # dnspython waits on it with its own selector and our timeout
    expiration = time.time() + deadline.remaining()  # dnspython's clock is the wall clock
    # No destination: the socket is connected, so the kernel already keeps other senders out.
    dns.query.send_udp(sock, query, None, expiration)
    reply, _, _ = dns.query.receive_udp(sock, None, expiration, request_mac=query.mac)
    if not query.is_response(reply):
        raise dns.query.BadResponse
    return reply


def describe(reply: dns.message.Message) -> dict[str, object]:
    """The facts of a reply for ``details``: rcode, flags, answer records."""
    return {
        "rcode": dns.rcode.to_text(reply.rcode()),
        "aa": bool(reply.flags & dns.flags.AA),
        "truncated": bool(reply.flags & dns.flags.TC),
        "answer": _record_lines(reply)[:MAX_RECORDS_SHOWN],
    }


def answer_records(reply: dns.message.Message, qname: dns.name.Name,
                   rdtype: dns.rdatatype.RdataType) -> tuple[list[dns.name.Name], dns.rrset.RRset | None]:
    """The answer's records for ``qname``/``rdtype``, following CNAMEs inside the answer section.

    Returns the CNAME chain walked and the matching RRset (None when there is none).
    """
    chain: list[dns.name.Name] = []
    name = qname
    for _ in range(MAX_CNAME_CHAIN):
        found = reply.get_rrset(reply.answer, name, dns.rdataclass.IN, rdtype)
        if found is not None or rdtype == dns.rdatatype.CNAME:
            return chain, found
        alias = reply.get_rrset(reply.answer, name, dns.rdataclass.IN, dns.rdatatype.CNAME)
        if alias is None:
            return chain, None
        name = alias[0].target
        chain.append(name)
    return chain, None


def _record(s: ProbeSession, reply: dns.message.Message) -> None:
    flags = dns.flags.to_text(reply.flags).lower() or "no flags"
    s.transcript.server(f"{dns.rcode.to_text(reply.rcode())}, {flags}, "
                        f"{sum(len(rrset) for rrset in reply.answer)} answer records")
    lines = _record_lines(reply)
    for line in lines[:MAX_RECORDS_SHOWN]:
        s.transcript.server(line)
    if len(lines) > MAX_RECORDS_SHOWN:
        s.transcript.note(f"{len(lines) - MAX_RECORDS_SHOWN} more answer records")


def _record_lines(reply: dns.message.Message) -> list[str]:
    return [line for rrset in reply.answer for line in rrset.to_text().splitlines()]
