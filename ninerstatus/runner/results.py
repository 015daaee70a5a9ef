"""Recording what the probes saw: latest results, flap damping, events, hooks, history and server states.

A batch of results is written in one short transaction. The history
recorder and each plugin's hook implementation run inside it, each in a
savepoint: a notifier that queues a message does so atomically with the
state change it reports, and one that raises is rolled back alone and
logged, while the runner and the other plugins carry on. The checks' own
updates are flushed once for the batch first, so each savepoint costs two
statements, not a flush. A check's result older than the one it already
has (a batch tried again after a failure, once another probe got in) is
not recorded over it.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import defer

from ..checks.models import Check
from ..history.recorder import record_samples
from ..history.rollup import Sample
from ..plugins import Plugins
from ..probing import ProbeResult
from .claims import Claim
from .damping import StateChange, apply_result
from .maintenance import active_window, windows_by_server
from .models import StatusEvent
from .servers import update_servers
from .transactions import call_hook, guarded, write_transaction


class Outcome(NamedTuple):
    """A finished probe: its claim, its result, and whether its check's next probe belongs in the slow lane."""

    claim: Claim
    result: ProbeResult
    slow: bool


def record_results(owner: str, outcomes: Sequence[Outcome], plugins: Plugins, now: datetime) -> None:
    """Store ``outcomes`` of ``owner``'s claims and everything that follows from them."""
    if not outcomes:
        return
    with write_transaction() as session:
        # Every window open at any of these results, even one that closed since.
        windows = windows_by_server(min(outcome.result.checked_at for outcome in outcomes))
        ids = [outcome.claim.check_id for outcome in outcomes]
        # The previous results are about to be replaced: not reading them saves decoding their JSON.
        checks = {c.id: c for c in session.scalars(select(Check).where(Check.id.in_(ids))
                                                   .options(defer(Check.last_result)))}
        recorded: list[tuple[Check, ProbeResult, StateChange | None]] = []
        samples = []
        for claim, result, slow in outcomes:
            check = checks.get(claim.check_id)
            if check is None:  # deleted while it was being probed
                continue
            if check.lease_owner == owner:
                check.lease_owner = check.lease_until = None
            if _already_newer(check, result, now):
                continue
            check.record(result)
            check.slow_lane = slow
            change = apply_result(check, result)
            in_maintenance = active_window(windows.get(check.server_id, []), result.checked_at) is not None
            samples.append(Sample.of(check.id, result, in_maintenance=in_maintenance))
            recorded.append((check, result, change))
            if change is not None:
                session.add(StatusEvent(check_id=check.id, occurred_at=check.state_since, previous=change.previous,
                                        current=change.current, summary=result.summary[:300]))
        session.flush()
        guarded("history recorder", record_samples, samples)
        for check, result, change in recorded:
            call_hook(plugins, "ninerstatus_probe_completed", check=check, result=result)
            if change is not None:
                call_hook(plugins, "ninerstatus_status_changed", check=check, previous=change.previous,
                          current=change.current, result=result)
        update_servers({check.server_id for check, _, change in recorded if change is not None}, windows, now)


def _already_newer(check: Check, result: ProbeResult, now: datetime) -> bool:
    """True when ``check`` holds ``result`` or a later one (a batch offered again after a failed commit).

    A stored time in the future (a hand edit, a clock set back) is not believed:
    it would otherwise keep every new result out for good.
    """
    stored = check.last_checked_at
    return stored is not None and result.checked_at <= stored <= now
