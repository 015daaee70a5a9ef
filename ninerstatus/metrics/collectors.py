"""What a scrape reads from the database: checks, runners, the notification outbox.

``SiteCollector`` is a prometheus_client custom collector built for one
scrape: it reads the stored state when the scrape asks, in a handful of
statements whatever the number of checks, so every worker process (and
every site sharing a PostgreSQL database) reports the same figures. The
runner writes; nothing here does.

Every stored row is untrusted: a row that cannot be read is left out of the
scrape, logged, and counted in ``ninerstatus_metrics_rows_skipped``; a
database that cannot be read makes ``ninerstatus_database_up`` 0 (the
request metrics are still reported), never an error answer.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import defer, selectinload

from ..agents.models import CheckLocation, Location
from ..agents.quorum import OFFLINE_AFTER_INTERVALS
from ..checks.models import Check, stored_result
from ..checks.status import check_state, latest_result
from ..extensions import db
from ..history import histogram
from ..history.models import HistoryRollup
from ..history.rollup import epoch_seconds
from ..history.tiers import DAILY
from ..notifications.models import Notification
from ..probing import ProbeResult, Status
from ..runner.maintenance import active_window, windows_by_server
from ..runner.models import RunnerHeartbeat

log = logging.getLogger(__name__)

#: The labels of every per-check series: the check's combined state (all its locations together, as the
#: site shows it); ``location_families`` adds a "location" label for what each location saw.
CHECK_LABELS = ("check_id", "check", "type", "server")
LOCATION_LABELS = (*CHECK_LABELS, "location")
#: The check states, as the site shows them (a Status name in lower case).
STATES = tuple(status.name.lower() for status in Status)
#: Buckets of the response-time histogram: every fourth bound of the stored histograms (each twice
#: the one before, 1.6 ms to 26.2 s), so the counts are exact, not estimated, and the series few.
RESPONSE_BOUNDS = tuple(range(16, 73, 4))
RUNNER_LABELS = ("runner", "host")
#: Longest channel name reported as a label (names come from stored rows).
MAX_CHANNEL_LABEL = 64
SECONDS_PER_DAY = 86400.0


class Skipped:
    """How many stored rows this scrape could not read."""

    def __init__(self) -> None:
        self.count = 0

    def row(self, what: str, key: Any, error: Exception) -> None:
        """Count and log one unreadable row."""
        self.count += 1
        log.warning("metrics: %s %s cannot be read as stored and is left out: %s: %s", what, key,
                    type(error).__name__, error)


class SiteCollector(Collector):
    """The database's metrics as they stand at ``now`` (see the module docstring)."""

    def __init__(self, config: Mapping[str, Any], now: datetime) -> None:
        self.config = config
        self.now = now

    def collect(self) -> Iterator[Metric]:
        skipped = Skipped()
        database_up = 1
        for read in (check_families, location_families, runner_families, outbox_families):
            try:
                families = read(self.now, self.config, skipped)
            except SQLAlchemyError as error:
                db.session.rollback()
                log.warning("metrics: the database cannot be read: %s", error)
                database_up = 0
                continue
            except Exception as error:  # a stored value the query itself cannot read back
                db.session.rollback()
                skipped.row("a row read by", read.__name__, error)
                continue
            yield from families
        yield GaugeMetricFamily("ninerstatus_database_up", "1 when this scrape could read the database, else 0.",
                                value=database_up)
        yield GaugeMetricFamily("ninerstatus_metrics_rows_skipped", "Stored rows this scrape could not read "
                                "(each is logged).", value=skipped.count)


class ProbeSeries:
    """The families a check, and a check seen from one location, both report: up, state, latest probe, latency.

    :param prefix: the families' names start with it.
    :param whose: whose probes they describe, for the help texts ("the check's").
    """

    def __init__(self, prefix: str, whose: str, labels: tuple[str, ...]) -> None:
        self.up = GaugeMetricFamily(f"{prefix}_up", f"1 when {whose} latest probe, if recent, found the service "
                                    "answering (OK or WARNING), else 0.", labels=labels)
        self.state = GaugeMetricFamily(f"{prefix}_state", f"1 for {whose} confirmed state (after retries and flap "
                                       "damping; unknown when its data is stale), 0 for the others.",
                                       labels=(*labels, "state"))
        self.checked = GaugeMetricFamily(f"{prefix}_last_probe_timestamp_seconds", f"When {whose} latest probe "
                                         "ran (Unix time).", labels=labels)
        self.latency = GaugeMetricFamily(f"{prefix}_latency_seconds", f"How long {whose} latest probe took in all.",
                                         labels=labels)

    @property
    def families(self) -> list[Metric]:
        """The four families."""
        return [self.up, self.state, self.checked, self.latency]

    def add(self, labels: tuple[str, ...], status: Status, fresh: bool, result: ProbeResult | None) -> None:
        """One series' values: its confirmed ``status``, and its latest ``result``, recent or not (``fresh``)."""
        self.up.add_metric(labels, 1 if fresh and result is not None and result.status <= Status.WARNING else 0)
        for name in STATES:
            self.state.add_metric((*labels, name), 1 if status.name.lower() == name else 0)
        if result is not None:
            self.checked.add_metric(labels, result.checked_at.timestamp())
            if result.timings.total is not None:
                self.latency.add_metric(labels, result.timings.total)


def check_labels(check: Check) -> tuple[str, ...]:
    """The label values of ``check``'s series, in ``CHECK_LABELS`` order."""
    return str(check.id), check.title, check.type_name, check.server.code


def check_families(now: datetime, _config: Mapping[str, Any], skipped: Skipped) -> list[Metric]:
    """Each enabled check's state, latest probe and certificate, and its response times today."""
    probes = ProbeSeries("ninerstatus_check", "the check's", CHECK_LABELS)
    expiry = GaugeMetricFamily("ninerstatus_check_certificate_expiry_timestamp_seconds", "When the certificate "
                               "the latest probe saw expires (Unix time).", labels=CHECK_LABELS)
    days_left = GaugeMetricFamily("ninerstatus_check_certificate_days_left", "Days until the certificate the "
                                  "latest probe saw expires (negative once expired).", labels=CHECK_LABELS)
    maintenance = GaugeMetricFamily("ninerstatus_check_maintenance", "1 while the check's server is in an "
                                    "announced maintenance window (its failures are not downtime), else 0.",
                                    labels=CHECK_LABELS)
    families = [*probes.families, expiry, days_left, maintenance]
    checks = db.session.scalars(select(Check).options(selectinload(Check.server)).where(Check.enabled)
                                .order_by(Check.id)).all()
    windows = windows_by_server(now)
    for check in checks:
        try:
            labels = check_labels(check)
            shown = check_state(check, now)
            result = latest_result(check)  # as check_state read it
        except Exception as error:  # whatever the row holds
            skipped.row("check", check.id, error)
            continue
        probes.add(labels, shown.status, shown.fresh, result)
        maintenance.add_metric(labels, 0 if active_window(windows.get(check.server_id, []), now) is None else 1)
        not_after = result.tls.not_after if result is not None and result.tls else None
        if not_after is not None:
            expiry.add_metric(labels, not_after.timestamp())
            days_left.add_metric(labels, (not_after - now).total_seconds() / SECONDS_PER_DAY)
    families.append(response_histograms(checks, now, skipped))
    return families


def location_families(now: datetime, _config: Mapping[str, Any], skipped: Skipped) -> list[Metric]:
    """What each location last saw of each enabled check assigned to it, and how each location's agent is doing."""
    probes = ProbeSeries("ninerstatus_check_location", "the location's", LOCATION_LABELS)
    rows = db.session.execute(
        select(Check, CheckLocation, Location.name)
        .join(CheckLocation, CheckLocation.check_id == Check.id).join(Location, Location.id == CheckLocation.location_id)
        .where(Check.enabled).options(selectinload(Check.server), defer(Check.last_result))
        .order_by(Check.id, Location.name))
    for check, seen, location in rows:
        try:
            labels = (*check_labels(check), location)
            result = stored_result(seen.last_result, seen.last_checked_at)
            fresh = seen.last_checked_at is not None and now - seen.last_checked_at <= timedelta(
                seconds=OFFLINE_AFTER_INTERVALS * check.interval_seconds)
            confirmed = Status.__members__.get(str(seen.state).upper(), Status.UNKNOWN) if fresh else Status.UNKNOWN
        except Exception as error:  # whatever the row holds
            skipped.row("location result of check", f"{check.id} ({location})", error)
            continue
        probes.add(labels, confirmed, fresh, result)
    return [*probes.families, *agent_families()]


def agent_families() -> list[Metric]:
    """Each location's agent: whether its token works, when it last sent results, its backlog and clock."""
    labels = ("location",)
    active = GaugeMetricFamily("ninerstatus_location_active", "1 for the site's own runner and for an agent "
                               "location whose token works, 0 for a revoked one.", labels=labels)
    contact = GaugeMetricFamily("ninerstatus_location_last_contact_timestamp_seconds", "When the location's agent "
                                "last sent results (Unix time).", labels=labels)
    backlog = GaugeMetricFamily("ninerstatus_location_backlog", "Results the agent had not sent yet, as it said "
                                "in its latest batch.", labels=labels)
    dropped = GaugeMetricFamily("ninerstatus_location_dropped", "Results the agent dropped (its spool full), as "
                                "it said in its latest batch.", labels=labels)
    offset = GaugeMetricFamily("ninerstatus_location_clock_offset_seconds", "How far the agent's clock is from "
                               "the site's.", labels=labels)
    for location in db.session.scalars(select(Location).order_by(Location.name)):
        name = (location.name,)
        active.add_metric(name, 1 if location.active else 0)
        if not location.is_site:
            backlog.add_metric(name, int(location.backlog or 0))
            dropped.add_metric(name, int(location.dropped or 0))
        if location.last_contact_at is not None:
            contact.add_metric(name, location.last_contact_at.timestamp())
        if location.clock_offset_seconds is not None:
            offset.add_metric(name, float(location.clock_offset_seconds))
    return [active, contact, backlog, dropped, offset]


def response_histograms(checks: list[Check], now: datetime, skipped: Skipped) -> HistogramMetricFamily:
    """Each check's response times since 00:00 UTC, from its daily history row.

    The runner adds every result to that row as it stores it, so the counts
    only grow during the day and start again from zero at midnight, which
    Prometheus' ``rate()`` and ``increase()`` take as a counter reset. Only
    probes the service answered count (a timeout measures the timeout, not
    the service), as in the site's own history.
    """
    family = HistogramMetricFamily("ninerstatus_check_response_seconds", "Response times of the check's answered "
                                   "probes since 00:00 UTC (starts again from zero each day).",
                                   labels=CHECK_LABELS)
    by_id = {check.id: check for check in checks}
    # From the enabled checks to their row by its key, so the read stays one lookup per check
    # however much history the table holds.
    rows = db.session.execute(
        select(HistoryRollup.check_id, HistoryRollup.latency_sum_us, HistoryRollup.histogram)
        .select_from(Check)
        .join(HistoryRollup, (HistoryRollup.check_id == Check.id) & (HistoryRollup.width == DAILY.width)
              & (HistoryRollup.bucket_start == DAILY.bucket_start(epoch_seconds(now))))
        .where(Check.enabled).order_by(Check.id))
    for check_id, latency_sum_us, encoded in rows:
        check = by_id.get(check_id)
        if check is None:
            continue  # enabled since the checks were read
        try:
            counts = histogram.decode(encoded or b"")
            if any(index > histogram.OVERFLOW for index in counts):
                raise ValueError(f"no bucket {max(counts)}")
            buckets = [(_seconds_text(histogram.BOUNDS_US[bound]),
                        sum(count for index, count in counts.items() if index <= bound)) for bound in RESPONSE_BOUNDS]
            buckets.append(("+Inf", sum(counts.values())))
            family.add_metric(check_labels(check), buckets, int(latency_sum_us or 0) / 1_000_000)
        except Exception as error:  # a histogram spoiled by hand
            skipped.row("daily history of check", check_id, error)
    return family


def _seconds_text(microseconds: int) -> str:
    """A bucket bound in seconds, written exactly (1600 µs: "0.0016")."""
    return f"{microseconds / 1_000_000:.6f}".rstrip("0").rstrip(".")


def runner_families(now: datetime, config: Mapping[str, Any], skipped: Skipped) -> list[Metric]:
    """Each runner's latest heartbeat (probes started and how late), and the probes each has in flight."""
    beat = GaugeMetricFamily("ninerstatus_runner_heartbeat_timestamp_seconds", "When the runner last reported "
                             "(Unix time; every RUNNER_HEARTBEAT_SECONDS while it runs).", labels=RUNNER_LABELS)
    started = GaugeMetricFamily("ninerstatus_runner_started_timestamp_seconds", "When the runner started "
                                "(Unix time).", labels=RUNNER_LABELS)
    window = GaugeMetricFamily("ninerstatus_runner_window_seconds", "Length of the window before the latest "
                               "heartbeat that the runner's probe counts and lags cover.", labels=RUNNER_LABELS)
    probes = GaugeMetricFamily("ninerstatus_runner_window_probes", "Probes the runner started in the window.",
                               labels=RUNNER_LABELS)
    late = GaugeMetricFamily("ninerstatus_runner_window_late_probes", "Probes of the window started over a "
                             "second after their slot.", labels=RUNNER_LABELS)
    late_slow = GaugeMetricFamily("ninerstatus_runner_window_late_slow_probes", "Late probes of the window of "
                                  "checks in the slow lane (their probes time out or run long).",
                                  labels=RUNNER_LABELS)
    lag_p99 = GaugeMetricFamily("ninerstatus_runner_lag_p99_seconds", "99th percentile of how late the "
                                "window's probes started after their slot.", labels=RUNNER_LABELS)
    lag_max = GaugeMetricFamily("ninerstatus_runner_lag_max_seconds", "The worst lag of the window's probes "
                                "behind their slots.", labels=RUNNER_LABELS)
    for runner in db.session.scalars(select(RunnerHeartbeat).order_by(RunnerHeartbeat.id)):
        try:
            labels = (runner.id, runner.hostname or "")
            values = [(beat, runner.heartbeat_at.timestamp()), (started, runner.started_at.timestamp()),
                      (window, float(runner.lag_window_seconds or 0)), (probes, int(runner.probes or 0)),
                      (late, int(runner.late_probes or 0)), (late_slow, int(runner.late_slow_probes or 0))]
            values += [(family, float(value)) for family, value in ((lag_p99, runner.lag_p99_seconds),
                                                                     (lag_max, runner.lag_max_seconds))
                       if value is not None]
        except Exception as error:  # whatever the row holds
            skipped.row("runner heartbeat", runner.id, error)
            continue
        for family, value in values:
            family.add_metric(labels, value)
    return [beat, started, window, probes, late, late_slow, lag_p99, lag_max, *pool_families(now, config)]


def pool_families(now: datetime, config: Mapping[str, Any]) -> list[Metric]:
    """Probes in flight per runner and lane (the checks it holds a live lease on), and the lanes' sizes."""
    in_flight = GaugeMetricFamily("ninerstatus_runner_probes_in_flight", "Checks the runner holds claimed for a "
                                  "probe now, by lane (quick or slow).", labels=("runner", "lane"))
    rows = db.session.execute(
        select(Check.lease_owner, Check.slow_lane, func.count())
        .where(Check.lease_owner.is_not(None), Check.lease_until > now)
        .group_by(Check.lease_owner, Check.slow_lane).order_by(Check.lease_owner))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for owner, slow, count in rows:
        counts[owner, "slow" if slow else "quick"] += count
    for (owner, lane), count in counts.items():
        in_flight.add_metric((owner, lane), count)
    size = GaugeMetricFamily("ninerstatus_runner_pool_size", "Probes a runner started with this site's settings "
                             "runs at once, by lane (RUNNER_POOL_SIZE, RUNNER_SLOW_POOL_SIZE).", labels=("lane",))
    size.add_metric(("quick",), max(1, int(config["RUNNER_POOL_SIZE"])))
    size.add_metric(("slow",), max(1, int(config["RUNNER_SLOW_POOL_SIZE"])))
    return [in_flight, size]


def outbox_families(now: datetime, config: Mapping[str, Any], _skipped: Skipped) -> list[Metric]:
    """Undelivered notifications per channel: waiting for a first attempt, retrying, or given up."""
    max_attempts = int(config["NOTIFY_MAX_ATTEMPTS"])
    queued = GaugeMetricFamily("ninerstatus_notifications_undelivered", "Notifications not delivered, by channel "
                               "and state: waiting (not tried yet), retrying (failed, to be tried again), "
                               "given_up (failed NOTIFY_MAX_ATTEMPTS times).", labels=("channel", "state"))
    oldest = GaugeMetricFamily("ninerstatus_notifications_oldest_pending_age_seconds", "Age of the oldest "
                               "notification still to be delivered (waiting or retrying), by channel.",
                               labels=("channel",))
    rows = db.session.execute(
        select(Notification.channel, Notification.attempts, func.count(), func.min(Notification.created_at))
        .where(Notification.sent_at.is_(None))
        .group_by(Notification.channel, Notification.attempts))
    counts: dict[tuple[str, str], int] = defaultdict(int)
    first: dict[str, datetime] = {}
    for channel, attempts, count, created in rows:
        channel = (channel or "")[:MAX_CHANNEL_LABEL]
        attempts = attempts or 0
        state = "given_up" if attempts >= max_attempts else "retrying" if attempts > 0 else "waiting"
        counts[channel, state] += count
        if state != "given_up" and created is not None:
            first[channel] = min(created, first.get(channel, created))
    for (channel, state), count in sorted(counts.items()):
        queued.add_metric((channel, state), count)
    for channel, created in sorted(first.items()):
        oldest.add_metric((channel,), max(0.0, (now - created).total_seconds()))
    return [queued, oldest]
