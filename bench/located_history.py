"""Per-location history benchmark: the recording's CPU per result with and without each location's own history.

Run by hand (not by the tests)::

    .venv/bin/python bench/located_history.py              # SQLite file in a temporary folder
    .venv/bin/python bench/located_history.py --database-url postgresql://postgres@127.0.0.1/ninerstatus_bench

A site with ``--checks`` checks probed from ``--locations`` locations (the
site's runner and agents) records a result of every check from every
location each simulated minute, through the real paths: the runner's
results with ``record_results``, each agent's with ``record_located`` in a
transaction of its own, ``--batch`` results to a transaction. Batches take
turns: one with every location's own history written, the next without (the
per-location writer replaced by one that writes nothing), so both see the
same tables as they grow; the first minute warms both up unmeasured. CPU is
the benchmark process's own, plus on PostgreSQL that of the database's
server processes (read from /proc, so the server must run on this machine).
It prints the CPU per result of each and their ratio: the extra write cost
of per-location history.
"""
from __future__ import annotations

import argparse
import logging
import random
import sys
import time
import timeit
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import Site, cpu_seconds, load_average  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a fresh, empty database (default: a new SQLite file)")
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--locations", type=int, default=3, help="the site's runner and this many less one agents")
    parser.add_argument("--minutes", type=int, default=31,
                        help="simulated minutes, one result per check and location; the first is not measured")
    parser.add_argument("--batch", type=int, default=100, help="results recorded per transaction")
    parser.add_argument("--seed", type=int, default=11)
    return parser.parse_args(argv)


def make_site(checks: int, locations: int) -> tuple[list[int], list[int]]:
    """A server with ``checks`` checks, each probed from the site's location and ``locations - 1`` agents."""
    from ninerstatus.agents.locations import issue_token, site_location
    from ninerstatus.agents.models import CheckLocation, Location
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.models import Server

    server = Server(code="B0001", role="Bench server", city="Amsterdam", country="Netherlands")
    rows = [Check(server=server, type_name="smtp", label=f"smtp {number}", host="127.0.0.1", port=587, settings={},
                  interval_seconds=60) for number in range(checks)]
    agents = [Location(name=f"Agent {number}", network=f"AS{64500 + number}") for number in range(1, locations)]
    db.session.add_all([server, *rows, *agents])
    db.session.flush()
    for agent in agents:
        issue_token(agent)
        db.session.add_all(CheckLocation(check_id=check.id, location_id=agent.id) for check in rows)
    site = site_location()
    db.session.commit()
    return [check.id for check in rows], [site.id] + [agent.id for agent in agents]


class Cpu:
    """CPU seconds of this process and, on PostgreSQL, of the server processes of its database."""

    def __init__(self, postgresql: bool) -> None:
        self.postgresql = postgresql

    def now(self) -> float:
        from sqlalchemy import text

        from ninerstatus.extensions import db

        spent = time.process_time()
        if self.postgresql:
            with db.engine.connect() as connection:
                pids = connection.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")).scalars().all()
            for pid in pids:
                try:
                    spent += cpu_seconds(pid)
                except OSError:  # not on this machine, or ended meanwhile
                    pass
        return spent


def record_batch(location_id: int, site_id: int, results: list) -> None:
    """Record ``results`` (check id, result) of one location as the site does: the runner's, or an agent's batch."""
    from ninerstatus.agents.models import Location
    from ninerstatus.extensions import db
    from ninerstatus.plugins import get_plugins
    from ninerstatus.runner.claims import Claim
    from ninerstatus.runner.results import Outcome, record_located, record_results
    from ninerstatus.runner.transactions import write_transaction

    now = max(result.checked_at for _, result in results)
    if location_id == site_id:
        record_results("bench", [Outcome(Claim(check_id, result.checked_at, 10.0), result, False)
                                 for check_id, result in results], get_plugins(), now)
        return
    with write_transaction():
        record_located(db.session.get(Location, location_id), results, get_plugins(), now)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    logging.disable(logging.WARNING)
    site = Site(args.database_url)
    try:
        run(args, site)
    finally:
        site.remove()


def run(args: argparse.Namespace, site: Site) -> None:
    from ninerstatus.extensions import db
    from ninerstatus.history.rollup import Sample
    from ninerstatus.probing import ProbeResult, Status, Timings
    from ninerstatus.runner import results as recording

    app = site.create_schema()
    with app.app_context():
        check_ids, location_ids = make_site(args.checks, args.locations)
        cpu = Cpu(db.engine.dialect.name == "postgresql")
        rng = random.Random(args.seed)
        start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=args.minutes)
        writer = recording.record_location_samples
        spent = {True: 0.0, False: 0.0}
        counted = {True: 0, False: 0}
        turn = True
        print(f"{args.checks} checks from {args.locations} locations, {args.minutes} simulated minutes, "
              f"{args.batch} results a transaction, into {site.database_url} (load average {load_average():.2f})")
        for minute in range(args.minutes):
            for location_id in location_ids:
                results = []
                for offset, check_id in enumerate(check_ids):
                    status = Status.CRITICAL if rng.random() < 0.02 else Status.OK
                    moment = start + timedelta(minutes=minute, seconds=offset % 60)
                    results.append((check_id, ProbeResult(status, "STARTTLS ok", checked_at=moment,
                                                          timings=Timings(total=rng.uniform(0.005, 0.08)))))
                for first in range(0, len(results), args.batch):
                    batch = results[first:first + args.batch]
                    recording.record_location_samples = writer if turn else (lambda located: 0)
                    began = cpu.now()
                    record_batch(location_id, location_ids[0], batch)
                    # The first minute warms up both ways (statements compiled and cached, tables started).
                    if minute:
                        spent[turn] += cpu.now() - began
                        counted[turn] += len(batch)
                    turn = not turn
        recording.record_location_samples = writer
        sample = ProbeResult(Status.OK, "STARTTLS ok", checked_at=start, timings=Timings(total=0.02))
        pairing = min(timeit.repeat(lambda: Sample.of(1, sample, in_maintenance=False), number=10_000, repeat=5))
    with_history, without = (spent[turn] / counted[turn] * 1e6 for turn in (True, False))
    print(f"CPU per result with per-location history: {with_history:.1f} us ({counted[True]:,} results)")
    print(f"CPU per result without it:                {without:.1f} us ({counted[False]:,} results)")
    print(f"Extra per result: {with_history - without:.1f} us; ratio with / without: {with_history / without:.3f}")
    print(f"Building each location's sample (counted in both): {pairing / 10_000 * 1e6:.2f} us per result")


if __name__ == "__main__":
    main(sys.argv[1:])
