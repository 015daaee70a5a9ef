"""Runner benchmark: 10,000 checks a minute through ``ninerstatus runner``, beside blackbox_exporter and check_smtp.

Run by hand (not by the tests)::

    .venv/bin/python bench/runner.py                        # 10,000 checks, a third each TCP, HTTP, SMTP
    .venv/bin/python bench/runner.py --mix smtp             # SMTP with STARTTLS only
    .venv/bin/python bench/runner.py --database-url postgresql://postgres@127.0.0.1/ninerstatus_bench
    .venv/bin/python bench/runner.py --hogs 2                # two processes busy-looping beside each prober

The checks probe loopback servers this script starts (``_targets.py``): a
greeting banner (the test suite's "banner" check type), HTTP, and SMTP
with STARTTLS whose certificate comes from a local CA added to a copy of
the system's CA bundle, so TLS is verified the way a real check's is. The
real ``ninerstatus runner`` works on a fresh database; after a warm-up of one
interval (every check placed and probed once) the script measures for a few
minutes: probes per second, schedule lag (when a probe started minus when
its slot fell due, read from the checks' rows, so the runner is not
disturbed), CPU seconds per 1,000 probes and memory of the runner process.

In the same run the same probes go through Prometheus' blackbox_exporter
(a paced, bounded loop of /probe requests, same mix, same rate, same CA
bundle) and, for SMTP, Debian's ``check_smtp -S`` (a bounded loop of
processes), and their CPU per 1,000 probes is given as ratios. Goals
(issue 14): 10,000 checks a minute on two cores with p99 lag under 250 ms,
kept with two busy-loop processes beside (``--hogs 2``), runner memory
under 150 MB, CPU per probe at most blackbox_exporter's and well under
check_smtp's.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.client import HTTPConnection
from pathlib import Path

from sqlalchemy import select

from _common import (BIN, Children, Site, cpu_seconds, free_port, load_average, memory_mb, ninerstatus_command,
                     percentile, require, wait_for_port)
from _targets import Ports, site_with_targets

TYPES = ("tcp", "http", "smtp")
SYSTEM_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
LAG_GOAL_SECONDS = 0.25
MEMORY_GOAL_MB = 150
BLACKBOX_FACTOR_GOAL = 1.0
#: The runner's warning about late probes (ninerstatus.runner.lateness), as logged.
LATE_WARNING = re.compile(r"probes ran late: (?P<late>[\d,]+) of (?P<probes>[\d,]+) started .* in the last "
                          r"(?P<seconds>\d+) s \(worst (?P<worst>[\d.]+) s late\)")
#: Seconds between two reads of the checks' rows (well under an interval, so no result is missed).
POLL_SECONDS = 5.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--interval", type=int, default=60, help="seconds between two probes of a check")
    parser.add_argument("--mix", default=",".join(TYPES),
                        help="check types in equal shares, from: tcp, http, smtp (default: all three)")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before measuring (default: one interval)")
    parser.add_argument("--seconds", type=float, default=180, help="seconds measured")
    parser.add_argument("--pool-size", type=int, help="RUNNER_POOL_SIZE (default: the runner's own default)")
    parser.add_argument("--database-url", help="a fresh, empty database (default: a new SQLite file)")
    parser.add_argument("--compare-seconds", type=float, default=60,
                        help="seconds of blackbox_exporter probing, at the runner's rate")
    parser.add_argument("--check-smtp-runs", type=int, default=500, help="check_smtp processes to run")
    parser.add_argument("--hogs", type=int, default=0,
                        help="busy-loop processes to run beside the runner and blackbox_exporter while they are "
                             "measured (a busy machine: the due rate must hold)")
    parser.add_argument("--profile", type=Path, help="also sample the runner with py-spy into this file "
                                                     "(collapsed stacks; the figures then include py-spy's cost)")
    args = parser.parse_args(argv)
    args.mix = [kind.strip() for kind in args.mix.split(",") if kind.strip()]
    if not args.mix or set(args.mix) - set(TYPES):
        parser.error(f"--mix takes a comma-separated list of {', '.join(TYPES)}")
    if args.warmup is None:
        args.warmup = args.interval
    if args.interval <= 3 * POLL_SECONDS:
        parser.error(f"--interval must be over {3 * POLL_SECONDS:g} s: results are read every {POLL_SECONDS:g} s")
    return args


# ---------------------------------------------------------------- the site

def make_checks(app, ports: Ports, mix: list[str], count: int, interval: int) -> None:
    """``count`` checks in equal shares of ``mix``, 100 to a server, all against the loopback servers."""
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.models import Server
    from ninerstatus.probing import TlsMode

    shapes = {"tcp": dict(type_name="banner", port=ports.banner, settings={"expect": "220"}),
              "http": dict(type_name="http", port=ports.http, settings={}),
              "smtp": dict(type_name="smtp", port=ports.smtp, tls_mode=TlsMode.STARTTLS, settings={})}
    with app.app_context():
        servers = [Server(code=f"B{number:04d}", role="Bench server", city="Amsterdam", country="Netherlands",
                          display_order=number) for number in range(math.ceil(count / 100))]
        db.session.add_all(servers)
        db.session.add_all(Check(server=servers[number // 100], label=f"{mix[number % len(mix)]} {number}",
                                 host="127.0.0.1", interval_seconds=interval, timeout_seconds=10,
                                 **shapes[mix[number % len(mix)]])
                           for number in range(count))
        db.session.commit()


def ca_bundle(folder: Path, ports: Ports) -> Path:
    """The system's CA bundle plus the benchmark's CA: TLS is verified as for a public server."""
    bundle = folder / "ca-bundle.pem"
    bundle.write_bytes(SYSTEM_CA_BUNDLE.read_bytes() + Path(ports.ca_file).read_bytes())
    return bundle


# ---------------------------------------------------------------- watching the runner

@dataclass
class Watch:
    """Probe start times read from the checks' rows while the runner works."""

    started: dict[int, set[datetime]] = field(default_factory=dict)
    next_due: dict[int, datetime] = field(default_factory=dict)
    interval: dict[int, int] = field(default_factory=dict)
    rss: list[float] = field(default_factory=list)

    def poll(self, app, runner_pid: int) -> None:
        from ninerstatus.checks.models import Check
        from ninerstatus.extensions import db

        with app.app_context():
            rows = db.session.execute(select(Check.id, Check.last_checked_at, Check.next_due_at,
                                             Check.interval_seconds)).all()
            db.session.rollback()
        for check_id, checked_at, next_due, interval in rows:
            if checked_at is not None:
                self.started.setdefault(check_id, set()).add(checked_at)
            if next_due is not None:
                self.next_due[check_id] = next_due
            self.interval[check_id] = interval
        self.rss.append(memory_mb(runner_pid)[0])

    def starts(self, begin: datetime, end: datetime) -> int:
        """How many probes started in [begin, end)."""
        return sum(begin <= started < end for starts in self.started.values() for started in starts)

    def lags(self, begin: datetime, end: datetime) -> tuple[list[float], int]:
        """Lags of the probes due in [begin, end), and how many slots in it saw no probe.

        Slots lie on each check's grid (``next_due_at`` plus whole intervals),
        so the slot a probe belonged to is the last grid point before it started.
        """
        lags, missed = [], 0
        for check_id, starts in self.started.items():
            anchor, step = self.next_due.get(check_id), timedelta(seconds=self.interval[check_id])
            if anchor is None:
                continue
            due_in_window = set()
            for started in starts:
                due = anchor + step * math.floor((started - anchor) / step)
                if begin <= due < end:
                    due_in_window.add(due)
                    lags.append((started - due).total_seconds())
            first = anchor + step * math.ceil((begin - anchor) / step)
            slots = max(0, math.ceil((end - first) / step))
            missed += slots - len(due_in_window)
        return lags, missed


def statuses_between(app, begin: datetime, end: datetime) -> Counter:
    """How many results of each status the runner wrote to history for probes started in [begin, end)."""
    from ninerstatus.extensions import db
    from ninerstatus.history.raw import read_samples

    with app.app_context():
        samples = read_samples(start=int(begin.timestamp()), end=int(end.timestamp()))
        db.session.rollback()
    return Counter(sample.status.name for sample in samples)


@dataclass(frozen=True)
class RunnerFigures:
    probes: int  # started in the window
    seconds: float
    cpu: float
    lags: list[float]  # of the probes due in the window
    missed: int
    statuses: Counter
    rss_mb: float
    peak_mb: float
    load: float  # the machine's load average before the runner started
    late: list[str]  # the runner's own warnings about late probes, from its log (one a minute at most)

    @property
    def rate(self) -> float:
        return self.probes / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.probes * 1000 if self.probes else math.nan


def measure_runner(args: argparse.Namespace, site: Site, app, ports: Ports, bundle: Path,
                   children: Children) -> RunnerFigures:
    """Start ``ninerstatus runner``, let it warm up, then watch it for ``args.seconds``."""
    env = site.environment()
    env["SSL_CERT_FILE"] = str(bundle)
    if args.pool_size:
        env["NINERSTATUS_RUNNER_POOL_SIZE"] = str(args.pool_size)
    load = load_average()
    log = site.folder / "runner.log"
    runner = children.start(ninerstatus_command("runner"), env=env, log=log)
    watch = Watch()
    print(f"Runner pid {runner.pid} started; warming up for {args.warmup:g} s", flush=True)
    start_hogs(args.hogs, children)
    time.sleep(args.warmup)
    spy = None
    if args.profile:
        spy = children.start([str(BIN / "py-spy"), "record", "--nonblocking", "--gil", "--format", "raw",
                              "--rate", "100", "--duration", str(int(args.seconds)), "--output", str(args.profile),
                              "--pid", str(runner.pid)], log=site.folder / "py-spy.log")
    begin = datetime.now(timezone.utc)
    cpu_before = cpu_seconds(runner.pid)
    ends = time.monotonic() + args.seconds
    while time.monotonic() < ends:
        if runner.poll() is not None:
            sys.exit(f"the runner exited with {runner.returncode}:\n{log.read_text()[-3000:]}")
        watch.poll(app, runner.pid)
        time.sleep(min(POLL_SECONDS, max(0.0, ends - time.monotonic())))
    end = datetime.now(timezone.utc)
    cpu = cpu_seconds(runner.pid) - cpu_before
    if spy is not None and spy.wait(600):
        print(f"py-spy failed:\n{(site.folder / 'py-spy.log').read_text()}")
    # Probes due just before the end finish within their timeout; read them once more.
    time.sleep(min(15.0, args.interval / 4))
    watch.poll(app, runner.pid)
    rss, peak = memory_mb(runner.pid)
    lags, missed = watch.lags(begin, end)
    return RunnerFigures(watch.starts(begin, end), (end - begin).total_seconds(), cpu, lags, missed,
                         statuses_between(app, begin, end), max(watch.rss + [rss]), peak, load, late_warnings(log))


def late_warnings(log: Path) -> list[str]:
    """The runner's own lateness warnings, shortened: when, how many probes were late, the worst lag.

    They say whether lag came from the warm-up (every check's first probe
    and first state change) or from the window measured.
    """
    found = []
    for line in log.read_text(errors="replace").splitlines():
        match = LATE_WARNING.search(line)
        if match:
            found.append(f"{line[11:19]} {match['late']} of {match['probes']} late in {match['seconds']} s, "
                         f"worst {match['worst']} s")
    return found


def start_hogs(count: int, children: Children) -> None:
    """Start ``count`` processes that each keep a CPU busy until ``children`` stops them."""
    for _ in range(count):
        children.start([sys.executable, "-c", "while True: pass"])


# ---------------------------------------------------------------- blackbox_exporter

BLACKBOX_CONFIG = """\
modules:
  tcp:
    prober: tcp
    timeout: 10s
    tcp:
      preferred_ip_protocol: ip4
      query_response:
        - expect: "^220"
  http:
    prober: http
    timeout: 10s
    http:
      preferred_ip_protocol: ip4
      valid_status_codes: []
  smtp:
    prober: tcp
    timeout: 10s
    tcp:
      preferred_ip_protocol: ip4
      query_response:
        - expect: "^220 "
        - send: "EHLO prober\\r"
        - expect: "^250-STARTTLS"
        - expect: "^250 "
        - send: "STARTTLS\\r"
        - expect: "^220"
        - starttls: true
        - send: "EHLO prober\\r"
        - expect: "^250-AUTH"
        - expect: "^250 "
        - send: "QUIT\\r"
        - expect: "^221"
      tls_config:
        server_name: 127.0.0.1
"""


@dataclass(frozen=True)
class ComparedFigures:
    probes: int
    failed: int
    cpu: float
    peak_mb: float = math.nan

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.probes * 1000 if self.probes else math.nan


def blackbox_targets(ports: Ports) -> dict[str, str]:
    return {"tcp": f"127.0.0.1:{ports.banner}", "http": f"http://127.0.0.1:{ports.http}/",
            "smtp": f"127.0.0.1:{ports.smtp}"}


def measure_blackbox(args: argparse.Namespace, folder: Path, ports: Ports, bundle: Path, rate: float,
                     children: Children) -> dict[str, ComparedFigures]:
    """blackbox_exporter's CPU per probe of each type in the mix, paced at ``rate`` probes a second."""
    program = require("prometheus-blackbox-exporter", "prometheus-blackbox-exporter")
    config = folder / "blackbox.yml"
    config.write_text(BLACKBOX_CONFIG)
    port = free_port()
    env = {**os.environ, "SSL_CERT_FILE": str(bundle)}
    exporter = children.start([program, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}"],
                              env=env)
    wait_for_port(port, exporter)
    start_hogs(args.hogs, children)
    targets = blackbox_targets(ports)
    figures = {}
    for kind in args.mix:
        count = max(1, int(rate * args.compare_seconds / len(args.mix)))
        request(port, kind, targets[kind])  # the first probe of a module sets things up once
        before = cpu_seconds(exporter.pid)
        failed = paced(count, rate, lambda: request(port, kind, targets[kind]))
        figures[kind] = ComparedFigures(count, failed, cpu_seconds(exporter.pid) - before,
                                        memory_mb(exporter.pid)[1])
    return figures


_connections = threading.local()


def request(port: int, module: str, target: str) -> bool:
    """One /probe request on this thread's kept-alive connection; True when the probe succeeded."""
    connection = getattr(_connections, "connection", None)
    if connection is None:
        connection = _connections.connection = HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", f"/probe?module={module}&target={target}")
    body = connection.getresponse().read()
    return b"\nprobe_success 1" in body


def paced(count: int, rate: float, call) -> int:
    """Make ``count`` calls at ``rate`` a second, at most 32 at a time; return how many failed."""
    began = time.monotonic()

    def one(index: int) -> bool:
        delay = began + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        try:
            return call()
        except OSError:
            _connections.connection = None
            return False

    with ThreadPoolExecutor(32) as pool:
        return sum(not ok for ok in pool.map(one, range(count)))


# ---------------------------------------------------------------- check_smtp

def measure_check_smtp(runs: int, ports: Ports) -> ComparedFigures:
    """CPU of ``check_smtp -S`` processes (each waited for with its own rusage), four at a time."""
    program = require("check_smtp", "monitoring-plugins-standard")
    command = [program, "-H", "127.0.0.1", "-p", str(ports.smtp), "-S", "-t", "10"]

    def one(_: int) -> tuple[float, bool]:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        return usage.ru_utime + usage.ru_stime, process.returncode == 0

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(one, range(runs)))
    return ComparedFigures(runs, sum(not ok for _, ok in outcomes), sum(cpu for cpu, _ in outcomes))


# ---------------------------------------------------------------- report

def report(args: argparse.Namespace, runner: RunnerFigures, blackbox: dict[str, ComparedFigures],
           check_smtp: ComparedFigures | None, database: str) -> None:
    goal = args.checks / args.interval
    p50, p99 = percentile(runner.lags, 0.50), percentile(runner.lags, 0.99)
    print()
    print(f"ninerstatus runner, {args.checks:,} checks ({'/'.join(args.mix)}) every {args.interval} s on {database}, "
          f"{os.cpu_count()} CPUs (load average {runner.load:.2f} before), measured {runner.seconds:.0f} s "
          f"after {args.warmup:g} s of warm-up" + (f", {args.hogs} busy-loop processes beside" if args.hogs else "")
          + ":")
    print(f"  probes per second      {runner.rate:8.1f}   (goal {goal:.1f}: ratio {runner.rate / goal:.2f}); "
          f"slots missed {runner.missed}; results {dict(runner.statuses)}")
    print(f"  schedule lag           p50 {p50 * 1000:6.0f} ms, p99 {p99 * 1000:6.0f} ms, max "
          f"{max(runner.lags, default=math.nan) * 1000:.0f} ms   (goal p99 under {LAG_GOAL_SECONDS * 1000:.0f} ms: "
          f"ratio {p99 / LAG_GOAL_SECONDS:.2f})")
    print(f"  CPU per 1,000 probes   {runner.cpu_per_1000:8.2f} s  "
          f"({runner.cpu:.1f} CPU-s for {runner.probes:,} probes, "
          f"{runner.cpu / runner.seconds * 100:.0f} % of one core)")
    print(f"  memory                 peak RSS {runner.peak_mb:.0f} MB, largest sampled {runner.rss_mb:.0f} MB   "
          f"(goal under {MEMORY_GOAL_MB} MB: ratio {runner.peak_mb / MEMORY_GOAL_MB:.2f})")
    print(f"  the runner's lateness warnings (UTC): {'; '.join(runner.late) or 'none'}")
    if blackbox:
        print("prometheus-blackbox-exporter, the same probes at the same rate:")
        for kind, figures in blackbox.items():
            print(f"  {kind:5} CPU per 1,000 probes {figures.cpu_per_1000:6.2f} s over {figures.probes:,} probes "
                  f"({figures.failed} failed)")
        mixed = sum(figures.cpu_per_1000 for figures in blackbox.values()) / len(blackbox)
        peak = max(figures.peak_mb for figures in blackbox.values())
        print(f"  mix   CPU per 1,000 probes {mixed:6.2f} s; peak RSS {peak:.0f} MB")
        print(f"  runner / blackbox_exporter CPU per probe: {runner.cpu_per_1000 / mixed:.2f} "
              f"(goal at most {BLACKBOX_FACTOR_GOAL:g})")
    if check_smtp is not None:
        print(f"check_smtp -S, one process per probe: CPU per 1,000 probes {check_smtp.cpu_per_1000:.2f} s "
              f"over {check_smtp.probes} runs ({check_smtp.failed} failed)")
        what = "runner" if args.mix == ["smtp"] else f"runner ({'/'.join(args.mix)} mix)"
        print(f"  {what} / check_smtp CPU per probe: {runner.cpu_per_1000 / check_smtp.cpu_per_1000:.2f}")


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with site_with_targets(args.database_url) as (site, app, ports):
        make_checks(app, ports, args.mix, args.checks, args.interval)
        bundle = ca_bundle(site.folder, ports)
        with Children() as children:
            runner = measure_runner(args, site, app, ports, bundle, children)
        rate = args.checks / args.interval
        blackbox = {}
        if args.compare_seconds > 0:
            print(f"Probing through blackbox_exporter for {args.compare_seconds:g} s at {rate:.0f}/s", flush=True)
            with Children() as children:
                blackbox = measure_blackbox(args, site.folder, ports, bundle, rate, children)
        check_smtp = None
        if "smtp" in args.mix and args.check_smtp_runs > 0:
            print(f"Running check_smtp -S {args.check_smtp_runs} times", flush=True)
            check_smtp = measure_check_smtp(args.check_smtp_runs, ports)
    report(args, runner, blackbox, check_smtp, "PostgreSQL" if args.database_url else "SQLite")


if __name__ == "__main__":
    main(sys.argv[1:])
