"""How a probe says "this check failed": the ``ProbeFailure`` exception.

A probe raises ``ProbeFailure(kind, message, status)`` at the point where it
knows what went wrong; the session (``ProbeSession``) and the runner
(``run_probe``) turn it into a ``ProbeResult``. Socket and TLS errors are
translated into the same exception by ``failure_from_exception`` so every
layer speaks one language.
"""
from __future__ import annotations

import socket
import ssl

from .result import ErrorKind, ProbeResult, Status, TlsInfo


#: What a probe that ran out of time was doing, as the site says it.
TIMEOUT_WORDING = {
    ErrorKind.RESOLVE_FAILED: "timed out resolving the host name",
    ErrorKind.CONNECT_TIMEOUT: "timed out connecting",
    ErrorKind.READ_TIMEOUT: "timed out waiting for the server",
}


class ProbeFailure(Exception):
    """The check failed in a way the probe understands.

    :param kind: the machine-readable reason.
    :param message: one short human line for the site, e.g. "STARTTLS not offered".
    :param status: CRITICAL by default; UNKNOWN when the probe could not decide
        (e.g. ``ErrorKind.CONFIG_ERROR``), WARNING for a degraded service.
    :param tls: what a failed TLS handshake still showed (set by the TLS layer).
    """

    def __init__(self, kind: ErrorKind, message: str, status: Status = Status.CRITICAL, *,
                 tls: TlsInfo | None = None) -> None:
        super().__init__(message)
        self.kind = ErrorKind(kind)
        self.message = message
        self.status = Status(status)
        self.tls = tls
        #: Filled in by the session: the failure with the timings, transcript
        #: and TLS facts gathered before it happened.
        self.result: ProbeResult | None = None

    def to_result(self) -> ProbeResult:
        """Return the bare result for this failure (the runner's fallback outside a session)."""
        return ProbeResult(self.status, self.message, error_kind=self.kind, tls=self.tls)


def failure_from_exception(exc: BaseException) -> ProbeFailure | None:
    """Translate a network error into a ``ProbeFailure``; None for anything else (a bug)."""
    if isinstance(exc, ProbeFailure):
        return exc
    if isinstance(exc, OSError):
        return failure_from_os_error(exc)
    return None


def failure_from_os_error(exc: OSError, *, connecting: bool = False, where: str = "") -> ProbeFailure:
    """Translate a socket or TLS error into a ``ProbeFailure``.

    ``connecting`` says the error came from ``connect()``, where a timeout is a
    connect timeout and any other refusal (RST, unreachable) means the server
    could not be reached at all. ``where`` (e.g. "127.0.0.1:25") is appended.
    """
    reason = error_reason(exc) + (f" ({where})" if where else "")
    if isinstance(exc, socket.gaierror):
        return ProbeFailure(ErrorKind.RESOLVE_FAILED, f"could not resolve: {reason}")
    if isinstance(exc, TimeoutError):
        # The error's own text ("timed out") says less than what timed out does.
        kind = ErrorKind.CONNECT_TIMEOUT if connecting else ErrorKind.READ_TIMEOUT
        return ProbeFailure(kind, TIMEOUT_WORDING[kind] + (f" ({where})" if where else ""))
    if isinstance(exc, ConnectionRefusedError) or connecting:
        return ProbeFailure(ErrorKind.CONNECT_REFUSED, f"could not connect: {reason}")
    if isinstance(exc, ssl.SSLError):
        return ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"TLS error: {reason}")
    return ProbeFailure(ErrorKind.PROTOCOL_ERROR, f"connection error: {reason}")


def failure_from_datagram_error(exc: OSError, *, connecting: bool = False, where: str = "") -> ProbeFailure:
    """Translate an error from a connected UDP socket (see ``deadline.open_datagram``).

    UDP has no handshake, so a refusal there can only mean the peer's ICMP
    "port unreachable": nothing listens on that port. Other errors read as
    in ``failure_from_os_error``.
    """
    if isinstance(exc, ConnectionRefusedError):
        return ProbeFailure(ErrorKind.CONNECT_REFUSED, "nothing listens on "
                            + (f"{where} over UDP" if where else "that UDP port") + " (ICMP port unreachable)")
    return failure_from_os_error(exc, connecting=connecting, where=where)


def error_reason(exc: OSError) -> str:
    """The short text of an OS or TLS error, without errno numbers or source locations."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return exc.reason.replace("_", " ").lower()
    return exc.strerror or str(exc) or type(exc).__name__
