"""Run one plugin's probe so that nothing it does can hurt the others.

``run_probe`` is the only way the core calls a probe. A probe that raises
(``SystemExit`` and ``KeyboardInterrupt`` included: in a probe they are a
plugin's bug, never a request to stop) gets an UNKNOWN result for its own
check only, at once, with the exception's type and message, never a
traceback, which goes to the log for staff. A probe that ignores its
deadline and hangs is abandoned after ``timeout + grace``: it runs in a
daemon worker thread that is left behind, since Python threads cannot be
killed (``workers.py``: threads are reused by the next probes once their
own returns). Given a ``HungProbes`` registry, ``run_probe`` starts no new thread
for a check whose abandoned one still runs, so a plugin that hangs holds at
most one thread per check instead of one more at every probe. Retries and
flap damping are the scheduler's business, not this one's.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from datetime import datetime
from typing import Any, Protocol

from .failure import ProbeFailure
from .result import ProbeResult, utc_now
from .session import ProbeContext
from .targets import Target
from .tls import DEFAULT_POLICY, TlsPolicy
from .workers import WorkerCall, start_in_worker

log = logging.getLogger(__name__)

#: Seconds a probe may overrun its timeout before the watchdog gives up on it.
WATCHDOG_GRACE = 0.5


class ProbeFunction(Protocol):
    """The signature of a plugin's probe."""

    def __call__(self, target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult: ...


class HungProbes:
    """The abandoned probes that still run, by key (the runner uses check ids); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[Hashable, WorkerCall] = {}

    def holds(self, key: Hashable) -> bool:
        """True while the probe abandoned under ``key`` still runs."""
        with self._lock:
            call = self._calls.get(key)
            if call is not None and not call.is_alive():
                del self._calls[key]
                call = None
            return call is not None

    def keep(self, key: Hashable, call: WorkerCall) -> None:
        """Remember ``call``, abandoned while it still runs the probe of ``key``."""
        with self._lock:
            self._calls[key] = call

    def count(self) -> int:
        """How many abandoned probes still run."""
        with self._lock:
            return sum(call.is_alive() for call in self._calls.values())


def run_probe(probe: ProbeFunction, target: Target, settings: Mapping[str, Any], timeout: float, *,
              tls_policy: TlsPolicy = DEFAULT_POLICY, clock: Callable[[], datetime] = utc_now,
              grace: float = WATCHDOG_GRACE, hung: HungProbes | None = None,
              key: Hashable = None) -> ProbeResult:
    """Run ``probe`` against ``target`` and always return a result within ``timeout + grace`` seconds.

    The result's ``timings.total`` is the time the probe took (or the time we
    waited for it) and ``checked_at`` the wall-clock time it started. With
    ``hung``, a probe abandoned at its deadline is kept there under ``key``,
    and while it still runs, probing ``key`` again starts no thread and
    returns UNKNOWN at once.
    """
    checked_at, started = clock(), time.monotonic()
    if hung is not None and hung.holds(key):
        return _not_probed(probe, checked_at)
    ctx = ProbeContext(timeout=timeout, tls_policy=tls_policy, clock=clock)
    call = WorkerCall(lambda: _call(probe, target, settings, ctx), f"probe {target}")
    start_in_worker(call)
    if call.done.wait(timeout + grace):
        return _timed(call.result, started, checked_at)
    return abandon(call, probe, target, timeout + grace, hung, key, started=started, checked_at=checked_at)


def probe_here(probe: ProbeFunction, target: Target, settings: Mapping[str, Any], timeout: float, *,
               tls_policy: TlsPolicy = DEFAULT_POLICY, clock: Callable[[], datetime] = utc_now,
               hung: HungProbes | None = None, key: Hashable = None) -> ProbeResult:
    """``run_probe`` on the calling thread, for a caller that already runs it on a worker thread.

    That caller keeps the watchdog itself: it stops waiting for the worker at
    ``timeout + grace`` and calls ``abandon``. Saves a hand-off between two
    threads per probe, which is a fair part of a quick probe's cost.
    """
    checked_at, started = clock(), time.monotonic()
    if hung is not None and hung.holds(key):
        return _not_probed(probe, checked_at)
    result = _call(probe, target, settings, ProbeContext(timeout=timeout, tls_policy=tls_policy, clock=clock))
    return _timed(result, started, checked_at)


def abandon(call: WorkerCall, probe: ProbeFunction, target: Target, limit: float, hung: HungProbes | None,
            key: Hashable, *, started: float, checked_at: datetime) -> ProbeResult:
    """The result of a probe given up at its ``limit`` (seconds) while ``call`` still runs it.

    The call is kept in ``hung`` under ``key``. ``started`` is when the probe
    started (monotonic), ``checked_at`` the same by the wall clock.
    """
    log.warning("probe %s for %s still running after %.1f s; abandoned", _name(probe), target, limit)
    reason = f"the probe did not finish within {limit:g} s"
    if hung is not None:
        hung.keep(key, call)
        reason += "; it still runs, and this check is not probed again until it returns"
    return _timed(ProbeResult.unknown(reason), started, checked_at)


def _not_probed(probe: ProbeFunction, checked_at: datetime) -> ProbeResult:
    return ProbeResult.unknown(
        f"not probed: the previous probe ({_name(probe)}) still runs past its deadline; the plugin hangs, "
        "and this check is probed again once that probe returns", checked_at=checked_at)


def _timed(result: ProbeResult, started: float, checked_at: datetime) -> ProbeResult:
    """``result`` with the time taken since ``started`` (monotonic) and the wall-clock time it started."""
    return result.timed(time.monotonic() - started, checked_at)


def _name(probe: ProbeFunction) -> str:
    return f"{getattr(probe, '__module__', '?')}.{getattr(probe, '__qualname__', type(probe).__name__)}"


def _call(probe: ProbeFunction, target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Call the probe and turn whatever it does into a result."""
    try:
        result = probe(target, settings, ctx)
    except ProbeFailure as failure:
        return failure.result or failure.to_result()
    except BaseException as exc:  # noqa: BLE001 - SystemExit in a probe thread would end it without a result
        log.exception("probe %s for %s raised", _name(probe), target)
        return ProbeResult.unknown(f"probe error: {type(exc).__name__}" + (f": {exc}" if str(exc) else ""))
    if not isinstance(result, ProbeResult):
        return ProbeResult.unknown(f"probe returned {type(result).__name__}, not a ProbeResult")
    return result
