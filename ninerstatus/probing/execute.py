"""Run one plugin's probe so that nothing it does can hurt the others.

``run_probe`` is the only way the core calls a probe. A probe that raises
gets an UNKNOWN result for its own check only (with the exception's type and
message, never a traceback, which goes to the log for staff). A probe that
ignores its deadline and hangs is abandoned after ``timeout + grace``: it runs
in a daemon worker thread that is left behind, since Python threads cannot be
killed. Retries and flap damping are the scheduler's business, not this one's.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from .failure import ProbeFailure
from .result import ProbeResult, utc_now
from .session import ProbeContext
from .targets import Target
from .tls import DEFAULT_POLICY, TlsPolicy

log = logging.getLogger(__name__)

#: Seconds a probe may overrun its timeout before the watchdog gives up on it.
WATCHDOG_GRACE = 0.5


class ProbeFunction(Protocol):
    """The signature of a plugin's probe."""

    def __call__(self, target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult: ...


def run_probe(probe: ProbeFunction, target: Target, settings: Mapping[str, Any], timeout: float, *,
              tls_policy: TlsPolicy = DEFAULT_POLICY, clock: Callable[[], datetime] = utc_now,
              grace: float = WATCHDOG_GRACE) -> ProbeResult:
    """Run ``probe`` against ``target`` and always return a result within ``timeout + grace`` seconds.

    The result's ``timings.total`` is the time the probe took (or the time we
    waited for it) and ``checked_at`` the wall-clock time it started.
    """
    checked_at = clock()
    started = time.monotonic()
    ctx = ProbeContext(timeout=timeout, tls_policy=tls_policy, clock=clock)
    outcome: list[ProbeResult] = []
    worker = threading.Thread(target=lambda: outcome.append(_call(probe, target, settings, ctx)),
                              name=f"probe {target}", daemon=True)
    worker.start()
    worker.join(timeout + grace)
    if outcome:
        result = outcome[0]
    else:
        log.warning("probe %r for %s still running after %.1f s; abandoned", probe, target, timeout + grace)
        result = ProbeResult.unknown(f"the probe did not finish within {timeout + grace:g} s")
    total = time.monotonic() - started
    return dataclasses.replace(result, timings=dataclasses.replace(result.timings, total=total),
                               checked_at=checked_at)


def _call(probe: ProbeFunction, target: Target, settings: Mapping[str, Any], ctx: ProbeContext) -> ProbeResult:
    """Call the probe and turn whatever it does into a result."""
    try:
        result = probe(target, settings, ctx)
    except ProbeFailure as failure:
        return failure.result or failure.to_result()
    except Exception as exc:
        log.exception("probe %r for %s raised", probe, target)
        return ProbeResult.unknown(f"probe error: {type(exc).__name__}: {exc}")
    if not isinstance(result, ProbeResult):
        return ProbeResult.unknown(f"probe returned {type(result).__name__}, not a ProbeResult")
    return result
