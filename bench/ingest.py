"""Ingest benchmark: 20 agents push 10,000 results a minute into a site; its CPU per 1,000 and how soon each shows.

Run by hand (not by the tests)::

    .venv/bin/python bench/ingest.py                      # SQLite, 3 minutes measured, then the runner's figure
    .venv/bin/python bench/ingest.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/ingest.py --runner-seconds 0   # the ingest alone
    .venv/bin/python bench/ingest.py --profile ingest.txt # py-spy on the web workers while measuring

A fresh site (a new SQLite file, or a database of its own created on the
PostgreSQL server of ``--database-url`` and dropped afterwards) gets
``--agents`` (20) agent locations of ``--checks-per-agent`` (500) checks
each, every ``--interval`` (60) s. The site's web process is started as in
production (``ninerstatus serve`` with its default workers and threads)
and each location's agent is the real ``ninerstatus agent`` command, a
process of its own with its own spool, talking to the site through the
agent API with signed requests. Its checks are of the "instant" type
(``ingest_plugins/instant.py``), which answers at once and writes its probe
time into the result's summary, so the two cores go to the site, not to
probing. The site's own location is there too, but its runner is not
started: the figure is what taking the agents' results costs the site, and
the runner's own figure is measured on its own afterwards.

After ``--warmup`` (an interval and a little: every check probed and
recorded once) it measures for ``--minutes`` (3):

- the web processes' CPU (user + system of ``serve`` and all its workers,
  with psutil) per 1,000 results taken (the batches the site recorded in
  the window); it includes everything the agents ask of the site, their
  assignment fetches too;
- from each result's probe time (its summary) to its check's state visible
  in the database (the first read of ``checks`` that shows it, every 0.25 s,
  in a transaction of its own; a reader of /api/servers gets the same row):
  p50, p99 and max, goal p99 under 2 s;
- batches refused or failed: every warning or error an agent logged (a
  refusal, a site it could not reach), and errors in the web process's log;
  goal 0.

Then, unless ``--runner-seconds 0``, bench/runner.py's measurement of the
real ``ninerstatus runner`` probing 10,000 real checks (TCP, HTTP, SMTP with
STARTTLS against loopback responders) on a second fresh database of the same
kind, for its CPU per 1,000 probes: the goal of issue 11 is that taking an
agent's result cost the site at most what probing and recording it costs
the runner.
"""
from __future__ import annotations

import argparse
import math
import re
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (BIN, Children, Site, free_port, load_average, ninerstatus_command,  # noqa: E402
                     own_postgres_database, percentile, wait_for_port)

PLUGINS = Path(__file__).resolve().parent / "ingest_plugins"
CHECK_TYPE = "instant"
PROBED_AT = re.compile(r"probed at (\d+\.\d+)")
LATENCY_GOAL_SECONDS = 2.0
#: Seconds between two reads of the checks' rows, and how far back each read looks (by result time).
POLL_SECONDS = 0.25
LOOK_BACK_SECONDS = 30.0
#: Samples a second py-spy takes of each web process (more fall behind on two busy cores).
PROFILE_RATE = 25


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=20)
    parser.add_argument("--checks-per-agent", type=int, default=500)
    parser.add_argument("--interval", type=int, default=60, help="seconds between two probes of a check")
    parser.add_argument("--warmup", type=float, default=None, help="seconds before measuring (default: interval + 15)")
    parser.add_argument("--minutes", type=float, default=3.0, help="minutes measured")
    parser.add_argument("--database-url", help="a PostgreSQL server to create the site's database on (default: "
                                               "a new SQLite file); the database it names is only connected to")
    parser.add_argument("--runner-seconds", type=float, default=120,
                        help="seconds of bench/runner.py's measurement afterwards (0: none)")
    parser.add_argument("--profile", type=Path, help="also sample the web workers with py-spy into this file "
                                                     "(collapsed stacks; the figures then include py-spy's cost)")
    args = parser.parse_args(argv)
    if args.warmup is None:
        args.warmup = args.interval + 15
    return args


# ---------------------------------------------------------------- the site

def make_locations(app, agents: int, per_agent: int, interval: int) -> list[str]:
    """``agents`` locations of ``per_agent`` instant checks each (100 to a server); return their tokens."""
    from ninerstatus.agents.locations import issue_token, site_location
    from ninerstatus.agents.models import CheckLocation, Location
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.models import Server

    tokens = []
    with app.app_context():
        site_location()
        for number in range(agents):
            location = Location(name=f"Agent {number:02d}", city="Amsterdam", country="Netherlands",
                                network=f"AS{64500 + number}")
            servers = [Server(code=f"A{number:02d}{index:02d}", role="Bench server", city="Amsterdam",
                              country="Netherlands", display_order=number * 100 + index)
                       for index in range(math.ceil(per_agent / 100))]
            checks = [Check(server=servers[index // 100], type_name=CHECK_TYPE, label=f"instant {number}.{index}",
                            host="127.0.0.1", port=80, settings={}, interval_seconds=interval, timeout_seconds=10)
                      for index in range(per_agent)]
            db.session.add_all([location, *servers, *checks])
            db.session.flush()
            db.session.add_all(CheckLocation(check_id=check.id, location_id=location.id) for check in checks)
            tokens.append(str(issue_token(location)))
        db.session.commit()
    return tokens


def start_agents(children: Children, site: Site, web_port: int, tokens: list[str]) -> list[tuple[object, Path]]:
    """One ``ninerstatus agent`` per token, each in a folder of its own; return each process and its log."""
    started = []
    for number, token in enumerate(tokens):
        folder = site.folder / f"agent-{number:02d}"
        folder.mkdir()
        (folder / "agent.token").write_text(token)
        env = {key: value for key, value in site.environment().items() if not key.startswith("NINERSTATUS_")}
        env.update(NINERSTATUS_INSTANCE_PATH=str(folder), NINERSTATUS_PLUGINS_FOLDER=str(PLUGINS))
        log = folder / "agent.log"
        process = children.start(ninerstatus_command("agent", "--site", f"http://127.0.0.1:{web_port}/",
                                                     "--token-file", str(folder / "agent.token"),
                                                     "--spool", str(folder / "spool.sqlite")), env=env, log=log)
        started.append((process, log))
    return started


def tree_cpu_seconds(pid: int) -> tuple[float, int]:
    """User + system CPU seconds of process ``pid`` and all its descendants (a server's workers), and how many."""
    import psutil

    root = psutil.Process(pid)
    total, count = 0.0, 0
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total, count = total + times.user + times.system, count + 1
    return total, count


def results_taken(app) -> tuple[int, int]:
    """Results, and batches, the site has taken from agents so far."""
    from sqlalchemy import func, select

    from ninerstatus.agents.models import AgentBatch
    from ninerstatus.extensions import db

    with app.app_context():
        results, batches = db.session.execute(select(func.coalesce(func.sum(AgentBatch.results), 0),
                                                     func.count())).one()
        db.session.rollback()
    return results, batches


# ---------------------------------------------------------------- watching the checks' states

@dataclass
class Visibility:
    """When each result's state was first seen in the checks' rows, against when it was probed."""

    seen: set[tuple[int, datetime]] = field(default_factory=set)
    # (probe time, seconds from the probe to the first read that showed it), both Unix seconds.
    latencies: list[tuple[float, float]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    def poll(self, app) -> None:
        """Read the checks whose latest result is recent; time each result not seen before."""
        from sqlalchemy import select

        from ninerstatus.checks.models import Check
        from ninerstatus.extensions import db

        # Whatever this read shows was committed before it began.
        began = time.time()
        since = datetime.fromtimestamp(began - LOOK_BACK_SECONDS, timezone.utc)
        with app.app_context():
            rows = db.session.execute(select(Check.id, Check.last_checked_at)
                                      .where(Check.last_checked_at > since)).all()
            new = [row for row in rows if tuple(row) not in self.seen]
            if new:
                self.seen.update(tuple(row) for row in new)
                for check_id, checked_at, state, result in db.session.execute(
                        select(Check.id, Check.last_checked_at, Check.state, Check.last_result)
                        .where(Check.id.in_([check_id for check_id, _ in new]))):
                    self.seen.add((check_id, checked_at))
                    found = PROBED_AT.search(str((result or {}).get("summary", "")))
                    if found:
                        probed = float(found.group(1))
                        self.latencies.append((probed, began - probed))
                        self.statuses[state] = self.statuses.get(state, 0) + 1
            db.session.rollback()

    def between(self, begin: float, end: float) -> list[float]:
        """Latencies of the results probed in [begin, end)."""
        return [latency for probed, latency in self.latencies if begin <= probed < end]


def complaints(path: Path) -> list[str]:
    """The warnings and errors in a log (an agent's: each is a batch refused or not delivered)."""
    if not path.exists():
        return []
    return [line for line in path.read_text(errors="replace").splitlines()
            if " WARNING " in line or " ERROR " in line or "Traceback" in line]


# ---------------------------------------------------------------- the runs

@dataclass(frozen=True)
class IngestFigures:
    seconds: float
    cpu: float
    processes: int
    taken: int
    batches: int
    due: float
    latencies: list[float]
    refused: list[str]
    site_errors: list[str]
    statuses: dict[str, int]
    load: float

    @property
    def cpu_per_1000(self) -> float:
        return self.cpu / self.taken * 1000 if self.taken else math.nan


def measure_ingest(args: argparse.Namespace, database_url: str | None) -> IngestFigures:
    site = Site(database_url, plugins_folder=PLUGINS)
    try:
        app = site.create_schema()
        print(f"Adding {args.agents} locations of {args.checks_per_agent} checks each", flush=True)
        tokens = make_locations(app, args.agents, args.checks_per_agent, args.interval)
        with Children() as children:
            web_port = free_port()
            web = children.start(ninerstatus_command("serve", "--port", str(web_port)), env=site.environment(),
                                 log=site.folder / "serve.log")
            wait_for_port(web_port, web)
            agents = start_agents(children, site, web_port, tokens)
            print(f"ninerstatus serve pid {web.pid} and {len(agents)} agents started; warming up for "
                  f"{args.warmup:g} s", flush=True)
            visibility = Visibility()
            watch_until(app, visibility, time.monotonic() + args.warmup, web, agents, site)
            load = load_average()
            spy = None
            if args.profile:
                spy = children.start([str(BIN / "py-spy"), "record", "--nonblocking", "--subprocesses", "--format",
                                      "raw", "--rate", str(PROFILE_RATE), "--duration", str(int(args.minutes * 60)),
                                      "--output", str(args.profile), "--pid", str(web.pid)],
                                     log=site.folder / "py-spy.log")
            print(f"Measuring for {args.minutes:g} minutes (load average {load:.2f})", flush=True)
            begin, cpu_before, taken_before = time.time(), tree_cpu_seconds(web.pid), results_taken(app)
            watch_until(app, visibility, time.monotonic() + args.minutes * 60, web, agents, site)
            end, cpu_after, taken_after = time.time(), tree_cpu_seconds(web.pid), results_taken(app)
            if spy is not None and spy.wait(600):
                print(f"py-spy failed:\n{(site.folder / 'py-spy.log').read_text()}")
            # Results probed just before the end arrive with the agents' next batches.
            watch_until(app, visibility, time.monotonic() + 15, web, agents, site)
            refused = [line for _, log in agents for line in complaints(log)]
            site_errors = complaints(site.folder / "serve.log")
        latencies = visibility.between(begin, end)
        return IngestFigures(end - begin, cpu_after[0] - cpu_before[0], cpu_after[1], taken_after[0] - taken_before[0],
                             taken_after[1] - taken_before[1],
                             args.agents * args.checks_per_agent / args.interval * (end - begin), latencies,
                             refused, site_errors, visibility.statuses, load)
    finally:
        site.remove()


def watch_until(app, visibility: Visibility, ends: float, web, agents, site: Site) -> None:
    """Read the checks' states every ``POLL_SECONDS`` until ``ends`` (monotonic); stop if a process died."""
    while time.monotonic() < ends:
        if web.poll() is not None:
            sys.exit(f"ninerstatus serve exited with {web.returncode}:\n"
                     f"{(site.folder / 'serve.log').read_text()[-3000:]}")
        for agent, log in agents:
            if agent.poll() is not None:
                sys.exit(f"an agent exited with {agent.returncode}:\n{log.read_text()[-3000:]}")
        visibility.poll(app)
        time.sleep(max(0.0, min(POLL_SECONDS, ends - time.monotonic())))


def measure_runner(args: argparse.Namespace, database_url: str | None):
    """bench/runner.py's figures of the real runner probing 10,000 real checks a minute, on a database of its own."""
    import runner as runner_bench
    from _targets import site_with_targets

    checks = args.agents * args.checks_per_agent
    options = argparse.Namespace(interval=args.interval, warmup=args.interval, seconds=args.runner_seconds, hogs=0,
                                 profile=None, pool_size=None)
    print(f"Now the runner alone: {checks:,} TCP/HTTP/SMTP checks every {args.interval} s", flush=True)
    with site_with_targets(database_url) as (site, app, ports):
        runner_bench.make_checks(app, ports, list(runner_bench.TYPES), checks, args.interval)
        bundle = runner_bench.ca_bundle(site.folder, ports)
        with Children() as children:
            return runner_bench.measure_runner(options, site, app, ports, bundle, children)


def report(args: argparse.Namespace, ingest: IngestFigures, runner, database: str) -> None:
    import os

    p50, p99 = percentile(ingest.latencies, 0.50), percentile(ingest.latencies, 0.99)
    rate = args.agents * args.checks_per_agent / args.interval * 60
    print()
    print(f"ninerstatus serve taking {args.agents} agents' results ({args.agents} x {args.checks_per_agent} checks "
          f"every {args.interval} s: {rate:,.0f} a minute) on {database}, {os.cpu_count()} CPUs (load average "
          f"{ingest.load:.2f} before), measured {ingest.seconds:.0f} s after {args.warmup:g} s of warm-up:")
    print(f"  results taken          {ingest.taken:,} of {ingest.due:,.0f} due ({ingest.taken / ingest.due:.1%}); "
          f"in {ingest.batches:,} batches ({ingest.taken / max(ingest.batches, 1):.1f} results a batch); "
          f"states seen {ingest.statuses}")
    print(f"  CPU per 1,000 results  {ingest.cpu_per_1000:6.2f} s  ({ingest.cpu:.1f} CPU-s in {ingest.processes} "
          f"processes, {ingest.cpu / ingest.seconds * 100:.0f} % of one core)")
    print(f"  probe to state visible p50 {p50 * 1000:6.0f} ms, p99 {p99 * 1000:6.0f} ms, max "
          f"{max(ingest.latencies, default=math.nan) * 1000:.0f} ms over {len(ingest.latencies):,} results "
          f"(goal p99 under {LATENCY_GOAL_SECONDS:g} s: ratio {p99 / LATENCY_GOAL_SECONDS:.2f})")
    print(f"  batches refused or failed {len(ingest.refused)} (goal 0); errors in the site's log "
          f"{len(ingest.site_errors)}")
    for line in (ingest.refused + ingest.site_errors)[:10]:
        print(f"    {line[:200]}")
    if runner is not None:
        print(f"ninerstatus runner alone, {runner.probes:,} real probes in {runner.seconds:.0f} s (load average "
              f"{runner.load:.2f} before): CPU per 1,000 probes {runner.cpu_per_1000:.2f} s")
        print(f"  site per result / runner per probe: {ingest.cpu_per_1000 / runner.cpu_per_1000:.2f} (goal at most 1)")
    else:
        print("  (runner not measured in this run: bench/README.md's latest runner figure is 1.69 s per 1,000 probes)")


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    database = "PostgreSQL" if args.database_url else "SQLite"

    def fresh_database():
        return own_postgres_database(args.database_url) if args.database_url else nullcontext(None)

    with fresh_database() as url:
        ingest = measure_ingest(args, url)
    runner = None
    if args.runner_seconds > 0:
        with fresh_database() as url:
            runner = measure_runner(args, url)
    report(args, ingest, runner, database)


if __name__ == "__main__":
    main(sys.argv[1:])
