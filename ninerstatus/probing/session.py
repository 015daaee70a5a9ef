"""What makes a probe short: ``ProbeContext`` (handed to every probe) and ``ProbeSession``.

A probe reads like the protocol it checks::

    def probe(target, settings, ctx):
        with ctx.session(target) as s:
            conv = s.connect()                       # resolve + connect, timed
            with s.phase("banner"):
                conv.read_reply().expect(220)
            ...
            return s.ok("STARTTLS ok, certificate 62 days")

Anything that goes wrong inside the ``with`` block (a ``ProbeFailure`` the
probe raises, the deadline running out, a socket or TLS error) leaves it as a
``ProbeFailure`` whose ``result`` carries the timings, transcript, details and
TLS facts gathered so far; ``run_probe`` returns that result.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from .conversation import Conversation
from .deadline import Deadline, DeadlineSocket, open_connection, resolve
from .failure import failure_from_exception
from .result import (MAX_PHASES, TOTAL, ErrorKind, ProbeResult, Status, SubCheck, Timings, TlsInfo,
                     phase_name_problem, utc_now)
from .targets import Target, TlsMode, validate_port
from .tls import DEFAULT_POLICY, TlsPolicy, assess_certificate
from .transcript import Transcript


@dataclass(frozen=True)
class ProbeContext:
    """What the runner hands a probe besides its target and settings.

    :param timeout: the probe's total budget in seconds; ``deadline`` starts on construction.
    :param tls_policy: how TLS is verified and when a certificate is "expiring".
    :param clock: wall clock giving aware UTC datetimes (certificate days left).
    :param monotonic: clock for the deadline and phase timings.
    """

    timeout: float = 10.0
    tls_policy: TlsPolicy = DEFAULT_POLICY
    clock: Callable[[], datetime] = utc_now
    monotonic: Callable[[], float] = time.monotonic
    deadline: Deadline = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "deadline", Deadline(self.timeout, clock=self.monotonic))

    def session(self, target: Target) -> ProbeSession:
        """Start one probe run against ``target``; use it as a context manager."""
        return ProbeSession(self, target)


class ProbeSession:
    """One run of a probe: its connections, phase timings, transcript, details and TLS facts.

    ``details`` may be filled as the probe goes (e.g. the banner as soon as it
    is read) so that a later failure still reports it.
    """

    def __init__(self, ctx: ProbeContext, target: Target) -> None:
        self.ctx = ctx
        self.target = target
        self.deadline = ctx.deadline
        self.transcript = Transcript()
        self.details: dict[str, Any] = {}
        self.tls: TlsInfo | None = None
        self._timings: dict[str, float] = {}
        self._conversations: list[Conversation] = []

    def __enter__(self) -> ProbeSession:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
        if exc is None:
            return
        failure = failure_from_exception(exc)
        if failure is None:
            return  # a bug in the probe: run_probe reports it as an internal error
        if failure.tls is not None:
            self.tls = failure.tls
        failure.result = self.result(failure.status, failure.message, error_kind=failure.kind)
        if failure is not exc:
            raise failure from exc

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as phase ``name``; a phase timed again adds up.

        ``name`` is any short identifier the probe chooses (``[a-z][a-z0-9_]{0,31}``,
        e.g. ``"banner"`` or ``"handshake"``) except ``"total"``, which the runner
        measures around the whole probe. Raises ``ValueError`` for a name that
        is not one, or for more distinct phases than a result may carry.
        """
        problem = phase_name_problem(name)
        if problem is None and name == TOTAL:
            problem = ("phase 'total' is reserved for the whole probe, which the runner times; "
                       "give this phase a name of its own")
        if problem is None and name not in self._timings and len(self._timings) >= MAX_PHASES - 1:
            problem = f"phase {name!r} would be one too many: a result carries at most {MAX_PHASES - 1} phases"
        if problem is not None:
            raise ValueError(problem)
        started = self.ctx.monotonic()
        try:
            yield
        finally:
            self._timings[name] = self._timings.get(name, 0.0) + self.ctx.monotonic() - started

    def connect(self, port: int | None = None) -> Conversation:
        """Resolve and connect to the target (or another ``port`` on it), timing both phases.

        With an implicit-TLS target the handshake follows at once (phase "tls").
        """
        port = self.target.port if port is None else validate_port(port)
        with self.phase("resolve"):
            addresses = resolve(self.target.host, port, self.target.family, self.deadline)
        with self.phase("connect"):
            sock = open_connection(addresses, self.deadline)
        self.details.setdefault("address", sock.getpeername()[0])
        conv = Conversation(DeadlineSocket(sock, self.deadline), self.transcript)
        self._conversations.append(conv)
        if self.target.tls is TlsMode.IMPLICIT:
            self.handshake(conv)
        return conv

    def handshake(self, conv: Conversation) -> TlsInfo:
        """Upgrade ``conv`` to TLS (after the server's STARTTLS go-ahead), timed as phase "tls"."""
        with self.phase("tls"):
            self.tls = conv.starttls(self.target.server_name, self.ctx.tls_policy, now=self.ctx.clock())
        return self.tls

    def ok(self, summary: str, **fields: Any) -> ProbeResult:
        """An OK result (lowered by an expiring certificate); ``fields`` as for ``result``."""
        return self.result(Status.OK, summary, **fields)

    def result(self, status: Status, summary: str, *, error_kind: ErrorKind | None = None,
               details: Mapping[str, Any] | None = None, subchecks: Iterable[SubCheck] = (),
               metrics: Mapping[str, float] | None = None) -> ProbeResult:
        """Build the result with everything gathered so far.

        When TLS was used, a "certificate" sub-check and the ``cert_days_left``
        metric are added, and an expiring or expired certificate lowers the
        status (and sets the error kind) if it is worse than ``status``.
        """
        checks = list(subchecks)
        all_metrics = dict(metrics or {})
        tls = self.tls
        if tls is not None and tls.days_left is not None:
            certificate, kind = assess_certificate(tls, self.ctx.tls_policy)
            checks.append(certificate)
            all_metrics.setdefault("cert_days_left", float(tls.days_left))
            if certificate.status.severity > Status(status).severity:
                status, error_kind = certificate.status, kind
        # A server may echo a password back; whatever reached the summary or the
        # details from its replies is masked like the transcript is.
        mask = self.transcript.mask
        return ProbeResult(
            status=status,
            summary=mask(summary),
            error_kind=error_kind,
            timings=Timings(**self._timings),
            tls=self.tls,
            details=_masked({**self.details, **(details or {})}, mask),
            subchecks=tuple(dataclasses.replace(c, summary=mask(c.summary)) for c in checks),
            metrics=all_metrics,
            transcript=self.transcript.lines,
        )

    def close(self) -> None:
        """Close every connection this session opened."""
        for conv in self._conversations:
            conv.close()


def _masked(value: Any, mask: Callable[[str], str]) -> Any:
    """``value`` with ``mask`` applied to every string inside it."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, Mapping):
        return {key: _masked(item, mask) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(item, mask) for item in value]
    return value
