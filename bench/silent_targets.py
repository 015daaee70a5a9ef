"""Silent targets benchmark: healthy checks keep their schedule beside 200 targets that never answer.

Run by hand (not by the tests)::

    .venv/bin/python bench/silent_targets.py                         # about 4 minutes
    .venv/bin/python bench/silent_targets.py --silent-interval 20    # the silent checks less often
    .venv/bin/python bench/silent_targets.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_silent

It reproduces issue 9, point 3, with the real ``ninerstatus runner`` on a
fresh database: ``--healthy`` (50) "banner" checks every ``--interval``
(10 s) against the loopback greeting server of ``_targets.py``, first alone
and then, in the same run and with the same runner, beside ``--silent``
(200) more against listeners on 127.0.0.1 (``--silent-ports`` of them) that
accept every connection and never send a byte, so each of those probes
holds its thread for its whole ``--timeout`` (10 s). Each phase is measured
for ``--seconds`` after a warm-up (one interval alone; with the silent
targets, one silent interval and one timeout, so that each of them has
been probed once, and the transient is reported apart). From the checks'
rows, read every second: the healthy checks' schedule lag (probe start
minus its slot) p50, p99 and max, their slots missed and probes per check
against those due, and the silent checks' probes per check against theirs.
From the runner: its own heartbeat figures (late probes, worst lag), its
"probes ran late" warnings, peak threads and RSS. Goal (issue 9): healthy
lag p99 under 1 s beside 200 silent targets.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from _common import Children, Site, load_average, memory_mb, ninerstatus_command, percentile
from _targets import site_with_targets
from runner import Watch

LAG_GOAL_SECONDS = 1.0
#: Seconds between two reads of the checks' rows (well under an interval, so no probe is missed).
POLL_SECONDS = 1.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--healthy", type=int, default=50, help="checks of a server that answers at once")
    parser.add_argument("--silent", type=int, default=200, help="checks of listeners that never answer")
    parser.add_argument("--silent-ports", type=int, default=10, help="silent listeners the silent checks share")
    parser.add_argument("--interval", type=int, default=10, help="seconds between two probes of a healthy check")
    parser.add_argument("--silent-interval", type=int, default=10, help="the same for a silent check")
    parser.add_argument("--timeout", type=float, default=10, help="every check's timeout in seconds")
    parser.add_argument("--seconds", type=float, default=60, help="seconds measured in each phase")
    parser.add_argument("--database-url", help="a fresh, empty database (default: a new SQLite file)")
    args = parser.parse_args(argv)
    if args.interval <= 3 * POLL_SECONDS or args.silent_interval <= 3 * POLL_SECONDS:
        parser.error(f"intervals must be over {3 * POLL_SECONDS:g} s: the checks are read every {POLL_SECONDS:g} s")
    return args


# ---------------------------------------------------------------- silent listeners

async def _say_nothing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.read()  # whatever the prober sends, until it hangs up; never a byte back
    except OSError:
        pass
    writer.close()


def start_silent_listeners(count: int) -> list[int]:
    """Listen on ``count`` ports of 127.0.0.1 (in a daemon thread of this process); return them.

    They cost next to nothing, and no figure here is CPU: this process may hold them.
    """
    ports: queue.Queue[list[int]] = queue.Queue()

    async def serve() -> None:
        servers = [await asyncio.start_server(_say_nothing, "127.0.0.1", 0, backlog=1024) for _ in range(count)]
        ports.put([server.sockets[0].getsockname()[1] for server in servers])
        await asyncio.Event().wait()

    threading.Thread(target=asyncio.run, args=(serve(),), name="silent listeners", daemon=True).start()
    return ports.get(timeout=30)


# ---------------------------------------------------------------- the site

def add_checks(app, code: str, ports: list[int], count: int, interval: int, timeout: float) -> list[int]:
    """``count`` banner checks of a new server ``code``, spread over ``ports``; return their ids."""
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.models import Server

    with app.app_context():
        server = Server(code=code, role="Bench server", city="Amsterdam", country="Netherlands")
        checks = [Check(server=server, type_name="banner", label=f"{code} {number}", host="127.0.0.1",
                        port=ports[number % len(ports)], settings={}, interval_seconds=interval,
                        timeout_seconds=timeout) for number in range(count)]
        db.session.add_all(checks)
        db.session.commit()
        return [check.id for check in checks]


# ---------------------------------------------------------------- watching the runner

@dataclass
class RunnerWatch(Watch):
    """``Watch``'s probe start times, and the runner's heartbeats and threads as well."""

    beats: dict[datetime, tuple[int, int, int, float]] = field(default_factory=dict)
    threads: list[int] = field(default_factory=list)

    def poll(self, app, runner_pid: int) -> None:
        from ninerstatus.extensions import db
        from ninerstatus.runner.models import RunnerHeartbeat

        super().poll(app, runner_pid)
        with app.app_context():
            for beat in db.session.scalars(select(RunnerHeartbeat)):
                self.beats[beat.heartbeat_at] = (beat.probes, beat.late_probes, beat.late_slow_probes,
                                                 beat.lag_max_seconds or 0.0)
            db.session.rollback()
        status = Path(f"/proc/{runner_pid}/status").read_text()
        self.threads.append(int(status.split("Threads:")[1].split()[0]))

    def only(self, ids: list[int]) -> Watch:
        """The probe start times of the checks ``ids`` alone."""
        return Watch({i: self.started[i] for i in ids if i in self.started},
                     {i: self.next_due[i] for i in ids if i in self.next_due},
                     {i: self.interval[i] for i in ids if i in self.interval})

    def beats_between(self, begin: datetime, end: datetime) -> tuple[int, int, int, float]:
        """The runner's own figures from the heartbeats written in [begin, end)."""
        beats = [figures for at, figures in self.beats.items() if begin <= at < end]
        return (sum(b[0] for b in beats), sum(b[1] for b in beats), sum(b[2] for b in beats),
                max((b[3] for b in beats), default=0.0))


def watch_for(app, runner, watch: RunnerWatch, seconds: float, log: Path) -> tuple[datetime, datetime]:
    """Read the checks' rows every POLL_SECONDS for ``seconds``; return the window."""
    begin = datetime.now(timezone.utc)
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if runner.poll() is not None:
            sys.exit(f"the runner exited with {runner.returncode}:\n{log.read_text()[-3000:]}")
        watch.poll(app, runner.pid)
        time.sleep(min(POLL_SECONDS, max(0.0, ends - time.monotonic())))
    return begin, datetime.now(timezone.utc)


@dataclass(frozen=True)
class Figures:
    """What one phase measured."""

    name: str
    seconds: float
    lags: list[float]           # of the healthy checks' probes due in the window
    missed: int                 # healthy slots due in the window without a probe
    healthy_probes: float       # per healthy check
    healthy_due: float
    silent_probes: float        # per silent check (NaN without them)
    silent_due: float
    runner: tuple[int, int, int, float]   # from its heartbeats: probes, late, late in the slow lane, worst lag

    def line(self) -> str:
        p50, p99 = percentile(self.lags, 0.50), percentile(self.lags, 0.99)
        return (f"  {self.name:<34} lag p50 {p50 * 1000:6.0f} ms, p99 {p99 * 1000:6.0f} ms, max "
                f"{max(self.lags, default=float('nan')) * 1000:6.0f} ms; missed {self.missed}; probes per check "
                f"{self.healthy_probes:.2f} of {self.healthy_due:.2f} due"
                + (f"; silent checks {self.silent_probes:.2f} of {self.silent_due:.2f} due"
                   if self.silent_due else ""))


def figures(name: str, watch: RunnerWatch, healthy: list[int], silent: list[int], args: argparse.Namespace,
            window: tuple[datetime, datetime]) -> Figures:
    begin, end = window
    seconds = (end - begin).total_seconds()
    lags, missed = watch.only(healthy).lags(begin, end)
    per_check = (lambda ids: watch.only(ids).starts(begin, end) / len(ids) if ids else 0.0)
    return Figures(name, seconds, lags, missed, per_check(healthy), seconds / args.interval, per_check(silent),
                   seconds / args.silent_interval if silent else 0.0, watch.beats_between(begin, end))


# ---------------------------------------------------------------- the run

def measure(args: argparse.Namespace, site: Site, app, banner_port: int, silent_ports: list[int],
            children: Children) -> tuple[list[Figures], RunnerWatch, Path, int]:
    healthy = add_checks(app, "HEALTHY", [banner_port], args.healthy, args.interval, args.timeout)
    log = site.folder / "runner.log"
    runner = children.start(ninerstatus_command("runner"), env=site.environment(), log=log)
    watch = RunnerWatch()
    print(f"Runner pid {runner.pid}: {args.healthy} healthy checks alone, warming up for {args.interval} s",
          flush=True)
    watch_for(app, runner, watch, args.interval, log)
    print(f"Measuring for {args.seconds:g} s", flush=True)
    alone = watch_for(app, runner, watch, args.seconds, log)
    silent = add_checks(app, "SILENT", silent_ports, args.silent, args.silent_interval, args.timeout)
    warmup = args.silent_interval + args.timeout + 5
    print(f"Added {args.silent} silent checks; warming up for {warmup:g} s", flush=True)
    transient = watch_for(app, runner, watch, warmup, log)
    print(f"Measuring for {args.seconds:g} s", flush=True)
    beside = watch_for(app, runner, watch, args.seconds, log)
    # A probe shows in its check's row once it has ended: those started last end within a timeout.
    watch_for(app, runner, watch, args.timeout + 2, log)
    phases = [figures("healthy checks alone", watch, healthy, [], args, alone),
              figures(f"while {args.silent} silent were first probed", watch, healthy, silent, args, transient),
              figures(f"beside {args.silent} silent targets", watch, healthy, silent, args, beside)]
    return phases, watch, log, runner.pid


def report(args: argparse.Namespace, phases: list[Figures], watch: RunnerWatch, log: Path, peak_mb: float,
           load: float, database: str) -> None:
    alone, transient, beside = phases
    print()
    print(f"ninerstatus runner on {database}, {os.cpu_count()} CPUs (load average {load:.2f} before): "
          f"{args.healthy} healthy checks every {args.interval} s, then {args.silent} silent ones every "
          f"{args.silent_interval} s beside them ({args.silent_ports} listeners that accept and never answer), "
          f"timeout {args.timeout:g} s, {args.seconds:g} s measured in each phase:")
    for phase in phases:
        print(phase.line())
    p99_alone, p99_beside = percentile(alone.lags, 0.99), percentile(beside.lags, 0.99)
    print(f"  healthy lag p99 beside silent targets: {p99_beside * 1000:.0f} ms (goal under "
          f"{LAG_GOAL_SECONDS * 1000:.0f} ms: ratio {p99_beside / LAG_GOAL_SECONDS:.2f}; "
          f"{p99_beside / p99_alone:.2f}x the p99 alone)")
    for phase in phases:
        probes, late, late_slow, worst = phase.runner
        print(f"  runner's heartbeats, {phase.name:<34} {probes:,} probes, {late:,} late "
              f"({late_slow:,} of them in the slow lane), worst {worst:.1f} s")
    warnings = [line for line in log.read_text().splitlines() if "probes ran late" in line]
    print(f"  runner log: {len(warnings)} 'probes ran late' warning(s)" + (f"; the last: {warnings[-1]}"
                                                                          if warnings else ""))
    print(f"  runner threads at most {max(watch.threads)}, peak RSS {peak_mb:.0f} MB")


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    silent_ports = start_silent_listeners(args.silent_ports)
    with site_with_targets(args.database_url) as (site, app, ports), Children() as children:
        load = load_average()
        phases, watch, log, pid = measure(args, site, app, ports.banner, silent_ports, children)
        report(args, phases, watch, log, memory_mb(pid)[1], load, "PostgreSQL" if args.database_url else "SQLite")


if __name__ == "__main__":
    main(sys.argv[1:])
