"""How late the runner starts probes: each one's lag behind its slot, summed up per heartbeat and logged.

A probe's lag is when the runner claimed it minus when its slot fell due.
With each heartbeat the runner writes what the lags since the previous one
came to (the staff dashboard shows it beside the runner), and when probes
started late it logs one warning, at most once a minute, that says which
lane they waited for and which setting gives that lane more room: a busy
runner says so without writing a line per probe.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from .lanes import Lane

log = logging.getLogger(__name__)

#: A probe that starts more than this long after its slot is late (the benchmarks' goal for the p99 lag).
LATE_SECONDS = 1.0
#: The shortest time between two warnings about late probes.
LOG_EVERY = timedelta(minutes=1)
#: The setting that sizes each lane, named in the warning.
LANE_SETTINGS = {Lane.QUICK: "RUNNER_POOL_SIZE", Lane.SLOW: "RUNNER_SLOW_POOL_SIZE"}


@dataclass(frozen=True)
class LagSummary:
    """The lags of the probes a runner started in one window; the fields are ``RunnerHeartbeat`` columns."""

    lag_window_seconds: float
    probes: int
    late_probes: int
    late_slow_probes: int
    lag_p99_seconds: float | None
    lag_max_seconds: float | None


class Lateness:
    """Collects the lag of every probe the runner starts; used from the runner's thread only."""

    def __init__(self, lane_sizes: Mapping[Lane, int], now: datetime) -> None:
        self.lane_sizes = dict(lane_sizes)
        self._since = now
        self._lags: list[float] = []
        self._late = dict.fromkeys(Lane, 0)
        # What has not been logged yet: since when, how many probes, how many late per lane, the worst lag.
        self._logged_at: datetime | None = None
        self._unlogged_since = now
        self._unlogged_probes = 0
        self._unlogged_late = dict.fromkeys(Lane, 0)
        self._unlogged_worst = 0.0

    def started(self, lane: Lane, due: datetime | None, now: datetime) -> None:
        """Note a probe of ``lane`` started at ``now`` for the slot ``due``."""
        lag = max(0.0, (now - due).total_seconds()) if due is not None else 0.0
        self._lags.append(lag)
        if lag > LATE_SECONDS:
            self._late[lane] += 1

    def summary(self, now: datetime) -> LagSummary:
        """What the lags since the last summary come to; starts the next window, and logs when probes ran late."""
        lags = sorted(self._lags)
        summary = LagSummary(
            lag_window_seconds=max(0.0, (now - self._since).total_seconds()), probes=len(lags),
            late_probes=sum(self._late.values()), late_slow_probes=self._late[Lane.SLOW],
            lag_p99_seconds=lags[max(0, math.ceil(0.99 * len(lags)) - 1)] if lags else None,
            lag_max_seconds=lags[-1] if lags else None)
        self._unlogged_probes += summary.probes
        self._unlogged_worst = max(self._unlogged_worst, summary.lag_max_seconds or 0.0)
        for lane in Lane:
            self._unlogged_late[lane] += self._late[lane]
        self._since, self._lags, self._late = now, [], dict.fromkeys(Lane, 0)
        self._log(now)
        return summary

    def _log(self, now: datetime) -> None:
        late = sum(self._unlogged_late.values())
        if late and self._logged_at is not None and now - self._logged_at < LOG_EVERY:
            return  # said lately: keep counting until a minute has passed
        if late:
            lanes = ", ".join(f"{count:,} in the {lane.value} lane ({LANE_SETTINGS[lane]}={self.lane_sizes[lane]} "
                              "probes at a time)" for lane, count in self._unlogged_late.items() if count)
            log.warning("probes ran late: %s of %s started over %g s after their slot in the last %.0f s "
                        "(worst %.1f s late): %s. A lane that stays full needs a larger setting; checks whose "
                        "probes time out or run long use the slow lane.", f"{late:,}", f"{self._unlogged_probes:,}",
                        LATE_SECONDS, (now - self._unlogged_since).total_seconds(), self._unlogged_worst, lanes)
            self._logged_at = now
        self._unlogged_since, self._unlogged_probes, self._unlogged_worst = now, 0, 0.0
        self._unlogged_late = dict.fromkeys(Lane, 0)
