"""TLS for probes: contexts, handshakes under the deadline, certificate facts and verdicts.

Verification is on by default (chain and host name, SNI set), unlike the
classic Nagios plugins; a check can turn it off or trust its own CA file for
self-signed internal servers. The leaf certificate is read with
``cryptography`` whether verification passed, failed or was off, so the site
can always say whose certificate it is and when it expires.
"""
from __future__ import annotations

import _ssl
import functools
import ipaddress
import math
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .deadline import Deadline
from .failure import ProbeFailure, error_reason
from .result import ErrorKind, Status, SubCheck, TlsInfo

# OpenSSL X509_V_ERR_* codes that get a kind of their own; any other
# verification failure means the chain cannot be trusted.
_EXPIRED_CODES = {10}  # CERT_HAS_EXPIRED
_HOSTNAME_CODES = {62, 63, 64}  # HOSTNAME_MISMATCH, EMAIL_MISMATCH, IP_ADDRESS_MISMATCH

if TYPE_CHECKING:
    from cryptography import x509

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class TlsPolicy:
    """How a check treats TLS.

    :param verify: check the chain and the host name (turn off only for
        self-signed internal servers).
    :param ca_file: PEM file of CAs to trust instead of the system store.
    :param warn_days: WARNING when fewer whole days than this are left.
    :param crit_days: CRITICAL when fewer whole days than this are left.
    """

    verify: bool = True
    ca_file: str | None = None
    warn_days: int = 21
    crit_days: int = 7

    def __post_init__(self) -> None:
        if not 0 <= self.crit_days <= self.warn_days:
            raise ValueError(f"need 0 <= crit_days <= warn_days, got crit {self.crit_days}, "
                             f"warn {self.warn_days}")


#: Verify everything, warn at 21 days, critical at 7.
DEFAULT_POLICY = TlsPolicy()


#: Seconds a client context is reused. Building one reads the CA store (the system's
#: is some 150 certificates: milliseconds of CPU, the larger part of a STARTTLS probe),
#: and a context is safe to share between threads; a CA store updated in place is
#: picked up within this time, a CA file that changed at once.
CONTEXT_REUSE_SECONDS = 300.0
_CONTEXTS_KEPT = 64
_contexts: dict[tuple, tuple[float, ssl.SSLContext]] = {}
_contexts_lock = threading.Lock()


def client_context(policy: TlsPolicy) -> ssl.SSLContext:
    """Return a client context for ``policy``; verifying unless the policy says otherwise.

    Contexts are shared by the probes of the same policy for up to ``CONTEXT_REUSE_SECONDS``.
    Raises ``OSError`` when the CA file cannot be used.
    """
    key = (policy.verify, policy.ca_file, _file_version(policy.ca_file))
    now = time.monotonic()
    with _contexts_lock:
        kept = _contexts.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    # Built under the lock, looked up again first: probes starting together after the reuse time
    # share the one context the first of them builds instead of each reading the CA store.
    with _contexts_lock:
        kept = _contexts.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        context = _new_client_context(policy)
        if len(_contexts) >= _CONTEXTS_KEPT:
            _contexts.clear()
        _contexts[key] = (now + CONTEXT_REUSE_SECONDS, context)
    return context


def _file_version(path: str | None) -> tuple[int, int, int] | None:
    """What tells one version of a file from the next (None for no file or one that cannot be read)."""
    if path is None:
        return None
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _new_client_context(policy: TlsPolicy) -> ssl.SSLContext:
    if policy.verify:
        # With a cafile only that file is trusted; without, the system store.
        return ssl.create_default_context(cafile=policy.ca_file)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def handshake(sock: socket.socket, server_name: str, policy: TlsPolicy, deadline: Deadline,
              *, now: datetime) -> tuple[ssl.SSLSocket, TlsInfo]:
    """Run a client handshake on the connected ``sock`` and return the TLS socket and its facts.

    ``sock`` is consumed: it is closed on failure. Raises ``ProbeFailure``
    with kind CERT_EXPIRED, CERT_HOSTNAME, CERT_UNTRUSTED (carrying the
    ``TlsInfo`` of the refused certificate), TLS_HANDSHAKE for anything else
    the server does wrong, READ_TIMEOUT when the deadline passes
    mid-handshake, or CONFIG_ERROR (UNKNOWN) when the CA file cannot be used.
    """
    try:
        context = client_context(policy)
    except OSError as exc:
        sock.close()
        # A missing or unreadable CA file is the check's setting, not the server's fault.
        raise ProbeFailure(ErrorKind.CONFIG_ERROR, f"cannot use CA file {policy.ca_file}: {error_reason(exc)}",
                           Status.UNKNOWN) from exc
    try:
        tls_sock = context.wrap_socket(sock, server_hostname=server_name, do_handshake_on_connect=False)
    except OSError as exc:  # e.g. the peer has reset the connection already
        sock.close()
        raise ProbeFailure(ErrorKind.TLS_HANDSHAKE, f"TLS handshake failed: {error_reason(exc)}") from exc
    try:
        # Since Python 3.5 a socket timeout bounds the whole handshake, not each
        # record, so one call given the time left keeps the total deadline.
        tls_sock.settimeout(deadline.remaining())
        tls_sock.do_handshake()
    except BaseException as exc:
        failure = _handshake_failure(exc, tls_sock, server_name, now, deadline)  # before close(): reads the chain
        tls_sock.close()
        if failure is None:
            raise
        raise failure from exc
    info = tls_info(tls_sock, tls_sock.getpeercert(binary_form=True), server_name, now,
                    verified=policy.verify, hostname_ok=True if policy.verify else None)
    return tls_sock, info


def tls_info(tls_sock: ssl.SSLSocket, der: bytes | None, server_name: str, now: datetime, *,
             verified: bool, hostname_ok: bool | None = None, verify_error: str | None = None) -> TlsInfo:
    """Describe a TLS connection and its leaf certificate ``der``.

    ``hostname_ok`` is worked out from the certificate when the caller (i.e.
    OpenSSL) has not decided it; it stays None when there is no readable certificate.
    """
    cipher = tls_sock.cipher()
    facts = _certificate_facts(der) if der else None
    if facts is None:
        return TlsInfo(version=tls_sock.version(), cipher=cipher[0] if cipher else None,
                       verified=verified, hostname_ok=hostname_ok, verify_error=verify_error)
    subject, issuer, dns_names, ip_addresses, sans, not_after = facts
    if hostname_ok is None:
        hostname_ok = _name_matches(server_name, dns_names, ip_addresses)
    return TlsInfo(
        version=tls_sock.version(),
        cipher=cipher[0] if cipher else None,
        subject=subject,
        issuer=issuer,
        sans=sans,
        not_after=not_after,
        days_left=math.floor((not_after - now).total_seconds() / 86400),
        verified=verified,
        hostname_ok=hostname_ok,
        verify_error=verify_error,
    )


def assess_certificate(info: TlsInfo, policy: TlsPolicy) -> tuple[SubCheck, ErrorKind | None]:
    """Judge the certificate's remaining lifetime against the policy's thresholds.

    Returns the "certificate" sub-check and the error kind that goes with a
    non-OK verdict. Needs ``info.days_left``. Expiry is judged even when
    verification is off: turning off trust checks does not stop the calendar.
    """
    days = info.days_left
    if days is None:
        raise ValueError("no certificate lifetime to judge")
    if days < 0:
        status, kind, summary = Status.CRITICAL, ErrorKind.CERT_EXPIRED, _expired(info)
    elif days < policy.crit_days:
        status, kind, summary = Status.CRITICAL, ErrorKind.CERT_EXPIRING, f"certificate expires in {days} days"
    elif days < policy.warn_days:
        status, kind, summary = Status.WARNING, ErrorKind.CERT_EXPIRING, f"certificate expires in {days} days"
    else:
        status, kind, summary = Status.OK, None, f"certificate valid for {days} more days"
    return SubCheck("certificate", status, summary), kind


def _handshake_failure(exc: BaseException, tls_sock: ssl.SSLSocket, server_name: str, now: datetime,
                       deadline: Deadline) -> ProbeFailure | None:
    """Translate what a handshake raised; None for errors that are bugs, not the server's doing."""
    if isinstance(exc, ProbeFailure):  # the deadline was already spent
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _refused_certificate(exc, tls_sock, server_name, now)
    if isinstance(exc, TimeoutError):
        return deadline.exceeded()
    if isinstance(exc, OSError):
        return ProbeFailure(ErrorKind.TLS_HANDSHAKE, f"TLS handshake failed: {error_reason(exc)}")
    return None


def _refused_certificate(exc: ssl.SSLCertVerificationError, tls_sock: ssl.SSLSocket,
                         server_name: str, now: datetime) -> ProbeFailure:
    """The failure for a certificate OpenSSL refused, with what the certificate says."""
    code = exc.verify_code
    reason = exc.verify_message or error_reason(exc)
    info = tls_info(tls_sock, _unverified_leaf(tls_sock), server_name, now, verified=False,
                    hostname_ok=False if code in _HOSTNAME_CODES else None, verify_error=reason)
    if code in _EXPIRED_CODES:
        return ProbeFailure(ErrorKind.CERT_EXPIRED, _expired(info), tls=info)
    if code in _HOSTNAME_CODES:
        return ProbeFailure(ErrorKind.CERT_HOSTNAME, f"certificate is not valid for {server_name}", tls=info)
    return ProbeFailure(ErrorKind.CERT_UNTRUSTED, f"certificate not trusted: {reason}", tls=info)


def _expired(info: TlsInfo) -> str:
    return f"certificate expired on {info.not_after:%Y-%m-%d}" if info.not_after else "certificate expired"


def _unverified_leaf(tls_sock: ssl.SSLSocket) -> bytes | None:
    """The DER leaf the server sent, read after OpenSSL refused it; None if unavailable.

    ``getpeercert`` only answers after a successful handshake. The chain the
    server sent is still held by OpenSSL: Python 3.13 exposes it as
    ``get_unverified_chain()``; 3.10 to 3.12 have the same C method, private,
    on ``_sslobj``. Best effort: without it the result just lacks the
    certificate fields.
    """
    public = getattr(tls_sock, "get_unverified_chain", None)
    if public is not None:
        chain = public()
        return chain[0] if chain else None
    private = getattr(getattr(tls_sock, "_sslobj", None), "get_unverified_chain", None)
    if private is None:
        return None
    chain = private()
    return chain[0].public_bytes(_ssl.ENCODING_DER) if chain else None


@functools.lru_cache(maxsize=1024)
def _certificate_facts(der: bytes) -> tuple[str, str, tuple[str, ...], tuple[IPAddress, ...], tuple[str, ...],
                                           datetime] | None:
    """Subject, issuer, SAN names and addresses, all SANs as text, and expiry of the DER certificate; None if
    unreadable.

    Kept per certificate: a server shows the same one to probe after probe,
    and reading it is a fair part of a TLS probe's own work.
    """
    certificate = _load(der)
    if certificate is None:
        return None
    dns_names, ip_addresses = _subject_alt_names(certificate)
    return (certificate.subject.rfc4514_string(), certificate.issuer.rfc4514_string(), tuple(dns_names),
            tuple(ip_addresses), tuple(dns_names) + tuple(str(ip) for ip in ip_addresses),
            certificate.not_valid_after_utc)


def _load(der: bytes | None) -> x509.Certificate | None:
    if not der:
        return None
    # Imported when a certificate is read: a check of a plaintext service never needs it, and
    # importing it costs `ninerstatus check` more than many probes take.
    from cryptography import x509

    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:  # malformed certificate: report the connection without it
        return None


def _subject_alt_names(certificate: x509.Certificate) -> tuple[list[str], list[IPAddress]]:
    from cryptography import x509

    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return [], []
    ips = [ip for ip in names.get_values_for_type(x509.IPAddress)
           if isinstance(ip, (ipaddress.IPv4Address, ipaddress.IPv6Address))]
    return names.get_values_for_type(x509.DNSName), ips


def _name_matches(server_name: str, dns_names: Iterable[str], ip_addresses: Iterable[IPAddress]) -> bool:
    """RFC 6125 matching as OpenSSL does it: SANs only, a wildcard covers exactly one left-most label."""
    try:
        wanted = ipaddress.ip_address(server_name)
    except ValueError:
        pass
    else:
        return wanted in ip_addresses
    name = server_name.lower().rstrip(".")
    for pattern in (pattern.lower().rstrip(".") for pattern in dns_names):
        if pattern == name:
            return True
        if pattern.startswith("*.") and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False
