"""``ninerstatus agent``: probe the checks of one location on schedule and report to the site.

Three threads share the work. The scheduler starts each check's probe when
it falls due (every check at its own interval, spread over it so a thousand
checks do not start in the same second) on a small pool of probe threads;
each result goes to the spool at once. The reporter sends the spool's
batches to the site, oldest first, and waits with growing pauses while the
site cannot be reached: probing never waits for the site. A fresh result
lingers up to a second for others to share its batch (every batch costs the
site a request and a transaction, whatever it holds), unless a full batch
waits; results that have waited longer (a backlog after an outage, or kept
from before a restart) go at once, full batches back to back. The assignments
are fetched again every minute; while the site cannot be reached the agent
keeps the ones it has (from the spool after a restart).

Needs neither Flask nor SQLAlchemy: the agent is the plugins, the probe
engine, the standard library and a SQLite file.
"""
from __future__ import annotations

import hashlib
import heapq
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..checktypes import CheckType
from ..probing import ErrorKind, Family, ProbeResult, Target, TlsMode, TlsPolicy, run_probe
from ..probing.execute import HungProbes
from .client import Answer, SiteClient, SiteUnreachable
from .spool import Batch, Spool

log = logging.getLogger(__name__)

#: Seconds between two fetches of the assignments.
REFRESH_SECONDS = 60.0
#: The longest pause between two attempts to reach the site.
MAX_BACKOFF_SECONDS = 60.0
#: The longest a fresh result waits for others to go in its batch.
LINGER_SECONDS = 1.0


def agent_version() -> str:
    """The installed ninerstatus's version, sent to the site so staff see which agents need updating."""
    try:
        return version("ninerstatus")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class AssignedCheck:
    """One check as the site assigned it: its id, interval and the document the probe is made from."""

    check_id: int
    interval: float
    document: Mapping[str, Any]


def _ca_file(state_dir: Path, pem: str | None) -> str | None:
    """A file holding ``pem`` (the CAs a check trusts), written once under its digest."""
    if not pem:
        return None
    path = state_dir / f"ca-{hashlib.sha256(pem.encode()).hexdigest()[:16]}.pem"
    if not path.exists():
        path.write_text(pem, encoding="ascii", errors="replace")
    return str(path)


def probe_assigned(document: Mapping[str, Any], check_types: Mapping[str, CheckType], state_dir: Path,
                   hung: HungProbes | None = None) -> ProbeResult:
    """Run the probe ``document`` describes; a document this agent cannot use gives an UNKNOWN result saying why."""
    check_type = check_types.get(str(document.get("type")))
    if check_type is None:
        return ProbeResult.unknown(f"this agent has no plugin for the check type {document.get('type')!r}",
                                   ErrorKind.CONFIG_ERROR)
    try:
        target_doc, policy_doc = document["target"], document["tls_policy"]
        target = Target(target_doc["host"], int(target_doc["port"]), Family(target_doc["family"]),
                        TlsMode(target_doc["tls"]), target_doc.get("tls_name"))
        policy = TlsPolicy(verify=bool(policy_doc["verify"]), ca_file=_ca_file(state_dir, policy_doc.get("ca_pem")),
                           warn_days=int(policy_doc["warn_days"]), crit_days=int(policy_doc["crit_days"]))
        timeout, settings = float(document["timeout_seconds"]), dict(document.get("settings") or {})
    except (KeyError, TypeError, ValueError) as error:
        return ProbeResult.unknown(f"the site sent a check this agent cannot read ({type(error).__name__}: {error})",
                                   ErrorKind.CONFIG_ERROR)
    return run_probe(check_type.probe, target, settings, timeout, tls_policy=policy, hung=hung,
                     key=document.get("id"))


class Agent:
    """One location's agent: the schedule, the probe pool, the spool and the site."""

    def __init__(self, client: SiteClient, spool: Spool, check_types: Mapping[str, CheckType], state_dir: Path, *,
                 workers: int = 16, batch_size: int = 500, linger: float = LINGER_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic, clock: Callable[[], float] = time.time) -> None:
        self.client, self.spool, self.check_types, self.state_dir = client, spool, check_types, state_dir
        self.batch_size, self.linger, self.monotonic, self.clock = max(1, batch_size), linger, monotonic, clock
        self.stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe")
        self._hung = HungProbes()
        self._lock = threading.Condition()
        self._checks: dict[int, AssignedCheck] = {}
        self._due: list[tuple[float, int]] = []
        self._running: set[int] = set()
        # The spool's numbers of the results kept less than a linger ago, with when (time.monotonic), oldest first.
        self._fresh: deque[tuple[int, float]] = deque()
        self._results_kept = threading.Condition()
        self.version = agent_version()

    # ------------------------------------------------------------ assignments

    def refresh(self) -> bool:
        """Fetch the assignments; True when the site answered with them."""
        try:
            answer = self.client.call("GET", "assignments")
        except SiteUnreachable as error:
            log.warning("%s; probing the %d checks known", error, len(self._checks))
            return False
        if answer.status != 200:
            log.error("the site refused the assignments request (%s): %s", answer.status, answer.body.get("message"))
            return False
        self.spool.keep_assignments(answer.body)
        self.assign(answer.body)
        return True

    def assign(self, document: Mapping[str, Any]) -> None:
        """Probe the checks of an assignments document from now on (new ones spread over their interval)."""
        checks = {}
        for item in document.get("checks") or ():
            try:
                checks[int(item["id"])] = AssignedCheck(int(item["id"]), max(1.0, float(item["interval_seconds"])),
                                                        item)
            except (KeyError, TypeError, ValueError):
                log.warning("skipping an assigned check the agent cannot read: %.200r", item)
        now = self.monotonic()
        with self._lock:
            added = set(checks) - set(self._checks)
            self._checks = checks
            self._due = [(due, check_id) for due, check_id in self._due if check_id in checks]
            for check_id in sorted(added):
                # Spread over the interval by id, so a restart keeps the same rhythm.
                spread = (check_id * 7919) % 1000 / 1000 * checks[check_id].interval
                self._due.append((now + spread, check_id))
            heapq.heapify(self._due)
            self._lock.notify_all()
        if added:
            log.info("probing %d checks (%d new)", len(checks), len(added))

    # ------------------------------------------------------------ probing

    def _schedule(self) -> None:
        """Start each check's probe when it falls due, until stopped."""
        while not self.stop.is_set():
            with self._lock:
                now = self.monotonic()
                if not self._due:
                    self._lock.wait(1.0)
                    continue
                due, check_id = self._due[0]
                if due > now:
                    self._lock.wait(min(due - now, 1.0))
                    continue
                heapq.heappop(self._due)
                check = self._checks.get(check_id)
                if check is None:
                    continue
                # The next slot keeps the rhythm; a check more than an interval behind starts afresh from now.
                following = due + check.interval
                heapq.heappush(self._due, (following if following > now else now + check.interval, check_id))
                if check_id in self._running:
                    continue  # its probe outlasts the interval: this slot is skipped, the next one kept
                self._running.add(check_id)
            self._pool.submit(self._probe, check)

    def _probe(self, check: AssignedCheck) -> None:
        try:
            result = probe_assigned(check.document, self.check_types, self.state_dir, self._hung)
            number = self._keep(check.check_id, result.to_dict())
            log.info("result %d: check %s %s at %s: %.100s", number, check.check_id, result.status.name,
                     result.checked_at.isoformat(), result.summary)
        except Exception:  # a spool that cannot be written: logged, and the next slot tries again
            log.exception("could not keep the result of check %s", check.check_id)
        finally:
            with self._lock:
                self._running.discard(check.check_id)

    def _keep(self, check_id: int, result: dict[str, Any]) -> int:
        """Put a result in the spool, as fresh; return its number."""
        # Under the lock, so that the reporter never counts a result in the spool that is not yet known as fresh.
        with self._results_kept:
            number = self.spool.add(check_id, result)
            self._fresh.append((number, time.monotonic()))
            # The reporter waits for the first result, and then for a full batch.
            if len(self._fresh) in (1, self.batch_size):
                self._results_kept.notify_all()
        return number

    # ------------------------------------------------------------ reporting

    def report_once(self) -> bool:
        """Send the next batch; True when the spool moved (sent, or results the site will not take set aside)."""
        batch = self.spool.next_batch(self.batch_size)
        if batch is None:
            return False
        payload = {"batch_id": batch.batch_id, "sent_at": self.clock(), "agent_version": self.version,
                   "backlog": self.spool.backlog(), "dropped": self.spool.dropped(),
                   "results": [{"check_id": check_id, "result": result} for check_id, result in batch.results]}
        answer = self.client.call("POST", "results", payload)
        return self._settle(batch, answer)

    def _settle(self, batch: Batch, answer: Answer) -> bool:
        """Act on the site's answer to a batch."""
        batch_id, check_ids = batch.batch_id, {check_id for check_id, _ in batch.results}
        if answer.status == 200 or answer.error == "duplicate_batch":
            self.spool.sent(batch_id)
            self._forget_fresh(batch.last)
            log.info("batch %s %s: %d results, %d to %d", batch_id,
                     "taken" if answer.status == 200 else "was already taken", len(batch.results), batch.first,
                     batch.last)
            return True
        if answer.error == "not_assigned":
            refused = {int(check_id) for check_id in answer.body.get("checks") or () if str(check_id).isdigit()}
            removed = self.spool.unsend(batch_id, refused or check_ids)
            log.warning("set aside %d results of checks no longer assigned to this location", removed)
            self.refresh()
            return True
        if answer.error == "bad_batch":
            removed = self.spool.unsend(batch_id, check_ids)
            self._forget_fresh(batch.last)
            log.error("the site cannot read batch %s (%s); its %d results are set aside", batch_id,
                      answer.body.get("message"), removed)
            return True
        raise SiteUnreachable(f"the site refused the batch ({answer.status} {answer.error}): "
                              f"{answer.body.get('message')}")

    def _forget_fresh(self, last: int) -> None:
        """The results up to number ``last`` have left the spool."""
        with self._results_kept:
            while self._fresh and self._fresh[0][0] <= last:
                self._fresh.popleft()

    def linger_left(self) -> float | None:
        """Seconds before the waiting results go: 0 now, None while no result waits.

        At once when a full batch waits, or when a result waits that was not
        kept within the linger (it waited longer, in a backlog or from before
        a restart); else when the oldest fresh result has lingered its time.
        """
        now = time.monotonic()
        with self._results_kept:
            backlog = self.spool.backlog()
            while self._fresh and self._fresh[0][1] <= now - self.linger:
                self._fresh.popleft()
            fresh, oldest = len(self._fresh), self._fresh[0][1] if self._fresh else now
        if backlog == 0:
            return None
        if backlog > fresh or fresh >= self.batch_size:
            return 0.0
        return max(0.0, oldest + self.linger - now)

    def _await_batch(self) -> bool:
        """Wait (a second at most) until a batch should go; True when it should go now."""
        left = self.linger_left()
        if left == 0.0:
            return True
        with self._results_kept:
            # Woken by the first result kept, or a full batch; each wait ends within a second, so a stop is seen.
            self._results_kept.wait(1.0 if left is None else min(left, 1.0))
        return False

    def _report(self) -> None:
        """Send batches when they should go; pause more and more while the site cannot be reached."""
        pause = 1.0
        while not self.stop.is_set():
            if not self._await_batch():
                continue
            try:
                moved = self.report_once()
            except SiteUnreachable as error:
                log.warning("%s; %d results wait in the spool", error, self.spool.backlog())
                self.stop.wait(pause * random.uniform(0.8, 1.2))
                pause = min(pause * 2, MAX_BACKOFF_SECONDS)
                continue
            pause = 1.0
            if not moved:  # the spool emptied meanwhile (its results set aside)
                self.stop.wait(0.1)

    def _refresh_regularly(self) -> None:
        while not self.stop.wait(REFRESH_SECONDS):
            self.refresh()

    # ------------------------------------------------------------ running

    def run(self) -> None:
        """Probe and report until ``stop`` is set."""
        if not self.refresh():
            kept = self.spool.assignments()
            if kept:
                log.warning("the site cannot be reached; probing the checks assigned when it last answered")
                self.assign(kept)
        threads = [threading.Thread(target=target, name=name, daemon=True) for target, name in (
            (self._schedule, "schedule"), (self._report, "report"), (self._refresh_regularly, "refresh"))]
        for thread in threads:
            thread.start()
        try:
            while not self.stop.wait(1.0):
                pass  # woken each second, so the main thread takes signals (SIGTERM sets stop)
        finally:
            for condition in (self._lock, self._results_kept):
                with condition:
                    condition.notify_all()
            for thread in threads:
                thread.join(timeout=REFRESH_SECONDS)
            # Probes in flight end by their deadline (the check's timeout): their results are kept for the next start.
            self._pool.shutdown(wait=True, cancel_futures=True)
