"""``ninerstatus mirror``: keep a static mirror fresh, and pushed to another host, as the site changes.

Every few seconds the service asks the database whether anything visitors
see has changed (``changes.site_fingerprint``: a few aggregate queries). When
it has, and the last export is at least ``every`` seconds old, it exports a
new generation, swaps it in and pushes it with rsync. Without changes it
still exports every ``refresh_after`` seconds, so the banner's "as of" never
grows older than that on a quiet day.

Nothing stops the service but a signal: a failed export is logged and tried
again after ``every`` seconds; a failed push is retried with growing waits
(the newest generation then), while exports go on.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from ..extensions import db
from .changes import site_fingerprint
from .export import MirrorSite
from .rsync import push as rsync_push

log = logging.getLogger(__name__)

#: Seconds between two looks at the database, by default.
POLL_SECONDS = 5.0
#: Waits between push attempts after failures: doubling from the first, up to the last.
PUSH_RETRY_FIRST = 10.0
PUSH_RETRY_MAX = 600.0


class MirrorService:
    """Refreshes ``target`` from ``site`` after changes, at most every ``every`` seconds, and pushes it.

    :param push_to: an rsync destination (``user@host:path``), or None.
    :param push: what pushes a generation there (tests pass their own).
    :param clock: monotonic seconds (tests pass their own).
    :param poll: seconds between two looks at the database.
    """

    def __init__(self, site: MirrorSite, target: Path, every: float, refresh_after: float = 3600.0,
                 push_to: str | None = None, push: Callable[[Path, str], bool] = rsync_push,
                 clock: Callable[[], float] = time.monotonic, poll: float = POLL_SECONDS) -> None:
        self.site = site
        self.target = target
        self.every = every
        self.refresh_after = refresh_after
        self.push_to = push_to
        self._push = push
        self.clock = clock
        self.poll = poll
        self._fingerprint: tuple | None = None
        self._exported_at: float | None = None
        self._push_due: float | None = None
        self._push_failures = 0

    def _read_fingerprint(self) -> tuple:
        with self.site.app.app_context():
            try:
                return site_fingerprint()
            finally:
                db.session.remove()

    def step(self) -> bool:
        """One look at the database: export and push when due; True when a new generation was swapped in."""
        now = self.clock()
        exported = False
        if self._exported_at is None or now - self._exported_at >= self.every:
            fingerprint = self._read_fingerprint()
            stale = self._exported_at is None or now - self._exported_at >= self.refresh_after
            if fingerprint != self._fingerprint or stale:
                self._exported_at = now  # also after a failure: the next try waits ``every`` seconds
                result = self.site.export(self.target)
                # Read before the export: a change made while it ran makes the next step export again.
                self._fingerprint = fingerprint
                exported = True
                if result.skipped:
                    log.warning("mirror: %d documents left out: %s", len(result.skipped),
                                ", ".join(result.skipped[:5]))
                log.info("mirror: wrote %d files as of %s", result.files, result.as_of.isoformat(timespec="seconds"))
                if self.push_to:
                    self._push_due = now
        if self.push_to and self._push_due is not None and now >= self._push_due:
            self._push_newest(now)
        return exported

    def _push_newest(self, now: float) -> None:
        if self._push(self.target.resolve(), self.push_to):
            self._push_due, self._push_failures = None, 0
            return
        self._push_failures += 1
        wait = min(PUSH_RETRY_MAX, PUSH_RETRY_FIRST * 2 ** (self._push_failures - 1))
        self._push_due = now + wait
        log.warning("mirror: push failed %d times in a row; next try in %g s", self._push_failures, wait)

    def run(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set; an error in a step is logged and the service goes on."""
        while not stop.is_set():
            try:
                self.step()
            except Exception:  # noqa: BLE001  (a mirror that stops refreshing is the failure to avoid)
                log.exception("mirror: refresh failed; trying again in %g s", self.every)
            stop.wait(self.poll)
