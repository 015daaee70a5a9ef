"""What a probe points at: ``Target`` and the validation of hosts and ports.

Hosts come from staff forms and from the command line, and they end up in
sockets, TLS server names and log lines. Anything that is not plainly a host
name or an IP address is refused here with a message that says what is wrong:
a URL pasted into the host field, a path, a space, a line break (header or
command injection) or a leading dash (option injection if the host ever
reaches a command line).
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from enum import Enum

MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63

# Underscores are not legal in host names, but internal zones use them and
# resolvers accept them, so refusing them would only get in the way.
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


class InvalidTarget(ValueError):
    """A host or port that a probe must not be pointed at."""


class Family(str, Enum):
    """Which IP version to connect over."""

    ANY = "any"
    IPV4 = "ipv4"
    IPV6 = "ipv6"

    @property
    def socket_family(self) -> socket.AddressFamily:
        """The ``socket`` constant for ``getaddrinfo``."""
        return {Family.ANY: socket.AF_UNSPEC, Family.IPV4: socket.AF_INET,
                Family.IPV6: socket.AF_INET6}[self]


class TlsMode(str, Enum):
    """How a check gets to TLS: not at all, by a STARTTLS-style upgrade, or from the first byte."""

    NONE = "none"
    STARTTLS = "starttls"
    IMPLICIT = "implicit"


def validate_host(host: str) -> str:
    """Return ``host`` normalised (lower case, IDN as A-labels, IPv6 without brackets).

    Raises ``InvalidTarget`` for anything that is not a host name, an IPv4
    address or an IPv6 address (bracketed or not).
    """
    if not isinstance(host, str):
        raise InvalidTarget(f"host must be text, got {type(host).__name__}")
    if not host:
        raise InvalidTarget("host is empty")
    if any(char.isspace() or not char.isprintable() for char in host):
        raise InvalidTarget(f"host {host!r} contains a space or a control character")
    if _SCHEME.match(host):
        raise InvalidTarget(f"host {host!r} is a URL; give only the host name, e.g. example.com")
    if host.startswith("-"):
        raise InvalidTarget(f"host {host!r} starts with a dash")
    if "/" in host or "\\" in host:
        raise InvalidTarget(f"host {host!r} contains a path; give only the host name")
    if host.startswith("[") or host.endswith("]"):
        return _bracketed_ipv6(host)
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if ":" in host:
        raise InvalidTarget(f"host {host!r} has a ':' but is not an IPv6 address; a port goes in the port field")
    return _host_name(host)


def validate_port(port: int) -> int:
    """Return ``port`` if it is a TCP/UDP port number (1..65535), else raise ``InvalidTarget``."""
    if isinstance(port, bool) or not isinstance(port, int):
        raise InvalidTarget(f"port must be a whole number, got {port!r}")
    if not 1 <= port <= 65535:
        raise InvalidTarget(f"port {port} is outside 1..65535")
    return port


def _bracketed_ipv6(host: str) -> str:
    if host.startswith("[") and host.endswith("]"):
        try:
            return str(ipaddress.IPv6Address(host[1:-1]))
        except ValueError:
            pass
    raise InvalidTarget(f"host {host!r} is not a bracketed IPv6 address")


def _host_name(host: str) -> str:
    if host.isascii():
        ascii_host = host.lower()
    else:
        try:
            # The "idna" codec turns café.example into its xn-- form, the one DNS and certificates use.
            ascii_host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise InvalidTarget(f"host {host!r} is not a valid international host name") from None
    name = ascii_host[:-1] if ascii_host.endswith(".") else ascii_host
    if len(name) > MAX_HOST_LENGTH:
        raise InvalidTarget(f"host name is longer than {MAX_HOST_LENGTH} characters")
    labels = name.split(".")
    for label in labels:
        if not label:
            raise InvalidTarget(f"host {host!r} has an empty label (two dots in a row?)")
        if len(label) > MAX_LABEL_LENGTH:
            raise InvalidTarget(f"host {host!r} has a label longer than {MAX_LABEL_LENGTH} characters")
        if not _LABEL.fullmatch(label):
            raise InvalidTarget(f"host {host!r} has an invalid label {label!r}: use letters, digits and inner dashes")
    # No top-level domain is all digits, so 256.1.1.1 is a mistyped address, not a name.
    if labels[-1].isdigit():
        raise InvalidTarget(f"host {host!r} is not a valid IPv4 address")
    return ascii_host


@dataclass(frozen=True)
class Target:
    """One endpoint to probe.

    :param host: host name or IP address; validated and normalised on construction.
    :param port: TCP/UDP port.
    :param family: IP version to use; a literal address must match it.
    :param tls: whether and how the check speaks TLS.
    :param tls_name: name to send as SNI and verify the certificate against,
        when it differs from ``host`` (e.g. probing one node of a cluster by IP).
    """

    host: str
    port: int
    family: Family = Family.ANY
    tls: TlsMode = TlsMode.NONE
    tls_name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "host", validate_host(self.host))
        object.__setattr__(self, "port", validate_port(self.port))
        object.__setattr__(self, "family", Family(self.family))
        object.__setattr__(self, "tls", TlsMode(self.tls))
        if self.tls_name is not None:
            object.__setattr__(self, "tls_name", validate_host(self.tls_name))
        self._check_family()

    @property
    def server_name(self) -> str:
        """The name TLS sends as SNI and checks the certificate against."""
        return (self.tls_name or self.host).rstrip(".")

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def _check_family(self) -> None:
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            return  # a name: the family choice applies at resolution
        wanted = {Family.IPV4: 4, Family.IPV6: 6}.get(self.family)
        if wanted is not None and address.version != wanted:
            raise InvalidTarget(f"address {self.host} is IPv{address.version} "
                                f"but family {self.family.value} was requested")
