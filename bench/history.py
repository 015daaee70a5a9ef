"""History benchmark: a year of 100 checks at a 60 s interval, then disk size and the 90-day bars query.

Run by hand (not by the tests)::

    .venv/bin/python bench/history.py                      # SQLite file in a temporary folder
    .venv/bin/python bench/history.py --database-url postgresql://postgres@127.0.0.1/ninerstatus_bench

Every simulated result goes through the real write path: ``record_samples``
(packed raw row, 5-minute and hourly blocks, daily upsert) in one-hour batches,
and ``prune_batch`` after each simulated hour with the default retention
(raw 7 days, 5-minute 30 days, hourly 13 months, daily for good), so the
database ends the year as a site's would. Goals (issue 5): under 150 MB on
disk, and the 90-day bars query of one server under 10 ms.
"""
from __future__ import annotations

import argparse
import logging
import random
import statistics
import sys
import tempfile
import time
from itertools import repeat
from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from ninerstatus import create_app
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.models import HistoryRollup, RawResults, TallyBlock
from ninerstatus.history.raw import read_samples
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.retention import prune_batch
from ninerstatus.history.rollup import Sample
from ninerstatus.history.uptime import daily_bars, daily_bars_by_server
from ninerstatus.models import Server
from ninerstatus.probing import Status

SIZE_GOAL_MB = 150
HISTORY_TABLES = (RawResults.__tablename__, TallyBlock.__tablename__, HistoryRollup.__tablename__)
BARS_GOAL_MS = 10
PRUNE_BATCH = 5000


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a fresh, empty database (default: a new SQLite file)")
    parser.add_argument("--checks", type=int, default=100)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--interval", type=int, default=60, help="seconds between results of a check")
    parser.add_argument("--days", type=int, default=365, help="simulated days of results")
    parser.add_argument("--runs", type=int, default=50, help="timed runs of the bars query")
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args(argv)


class Simulation:
    """Results of many checks, mostly fine, with outages, slow spells, unknowns and maintenance windows."""

    def __init__(self, check_ids: list[int], servers: dict[int, int], interval: int, seed: int) -> None:
        rng = random.Random(seed)
        self.rng = rng
        self.check_ids = check_ids
        self.servers = servers
        self.interval = interval
        # Each check answers around its own typical time (5 to 80 ms), with jitter.
        self.typical = {check_id: rng.lognormvariate(9.9, 0.6) for check_id in check_ids}
        self.jitter = [rng.lognormvariate(0, 0.25) for _ in range(4099)]
        self.trouble: dict[int, tuple[int, Status]] = {}

    def hour(self, start: int) -> list[Sample]:
        """The results of every check in the hour from ``start``."""
        rng, jitter, interval = self.rng, self.jitter, self.interval
        # Each month one server has an hour of maintenance.
        maintenance_server = self.servers[self.check_ids[0]] if start // 3600 % (30 * 24) == 3 else None
        samples: list[Sample] = []
        for offset, check_id in enumerate(self.check_ids):
            moments = range(start + offset % interval, start + 3600, interval)
            first = rng.randrange(len(jitter) - len(moments))
            latencies = [int(self.typical[check_id] * factor) for factor in jitter[first:first + len(moments)]]
            in_maintenance = self.servers[check_id] == maintenance_server
            # About one outage or slow spell per check a fortnight, 1 to 40 results long,
            # and now and then a result the probe could not decide.
            if check_id not in self.trouble and rng.random() < 1 / (14 * 24):
                self.trouble[check_id] = (rng.randint(1, 40), rng.choice((Status.CRITICAL, Status.WARNING)))
            if check_id not in self.trouble and first % 97:
                count = len(moments)
                samples.extend(map(Sample, repeat(check_id, count), moments, repeat(Status.OK, count), latencies,
                                   repeat(None, count), repeat(in_maintenance, count)))
                continue
            for moment, latency in zip(moments, latencies):
                status = Status.OK
                if check_id in self.trouble:
                    left, status = self.trouble[check_id]
                    latency = None if status is Status.CRITICAL else latency * 8
                    self.trouble[check_id] = (left - 1, status)
                    if left <= 1:
                        del self.trouble[check_id]
                elif moment == moments[0]:
                    status, latency = Status.UNKNOWN, None
                samples.append(Sample(check_id, moment, status, latency, None, in_maintenance))
        return samples


def make_checks(count: int, server_count: int) -> tuple[list[int], dict[int, int], Server]:
    servers = [Server(code=f"NC{number:03d}", role="Mail server", city="Amsterdam", country="Netherlands",
                      display_order=number) for number in range(1, server_count + 1)]
    checks = [Check(server=servers[number % server_count], type_name="smtp", label=f"SMTP {number}",
                    host="127.0.0.1", port=587, settings={}) for number in range(count)]
    db.session.add_all(servers + checks)
    db.session.commit()
    return [check.id for check in checks], {check.id: check.server_id for check in checks}, servers[0]


class Clock:
    """Seconds spent in each part of the work."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def run(self, part: str, call):
        began = time.perf_counter()
        try:
            return call()
        finally:
            self.spent[part] = self.spent.get(part, 0.0) + time.perf_counter() - began


def write_year(simulation: Simulation, start: int, hours: int, clock: Clock, size) -> tuple[int, int]:
    """Record every hour of results, pruning after each hour as the runner would; ``size()`` is the bytes on disk."""
    recorded = pruned = 0
    vacuum = needs_vacuum()
    for hour in range(hours):
        if vacuum and hour % 24 == 0:
            clock.run("vacuuming", vacuum_history)
        moment = start + hour * 3600
        samples = clock.run("simulating results", lambda: simulation.hour(moment))
        recorded += clock.run("recording", lambda: record_samples(samples))
        clock.run("recording", db.session.commit)
        pruned += clock.run("pruning", lambda: prune_all(datetime.fromtimestamp(moment + 3600, timezone.utc)))
        if hour % (24 * 30) == 0:
            print(f"  day {hour // 24:3d}: {recorded:,} results recorded, {pruned:,} rows pruned, "
                  f"{size() / 1e6:.1f} MB, {sum(clock.spent.values()):.0f} s", flush=True)
    return recorded, pruned


def needs_vacuum() -> bool:
    """True on a PostgreSQL server whose autovacuum is off (as on test clusters)."""
    if db.engine.dialect.name != "postgresql":
        return False
    off = db.session.scalar(text("SHOW autovacuum")) == "off"
    if off:
        print("  autovacuum is off on this server: vacuuming the history tables once a simulated day instead")
    return off


def vacuum_history() -> None:
    """What autovacuum would do: make the space of deleted and updated rows reusable, refresh statistics.

    Each ANALYZE rewrites the tables' statistics, so the catalogue that holds
    them is vacuumed too: left alone it grows by megabytes a simulated month.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE) " + ", ".join(HISTORY_TABLES))
        connection.exec_driver_sql("VACUUM pg_statistic")


def prune_all(now: datetime) -> int:
    """Prune in batches, committing after each, until nothing has expired."""
    pruned = 0
    while True:
        deleted = prune_batch(now, batch_size=PRUNE_BATCH)
        db.session.commit()
        pruned += deleted
        if deleted < PRUNE_BATCH:
            return pruned


def database_size(path: Path | None) -> float:
    """Bytes on disk: the SQLite file (after a WAL checkpoint) or the PostgreSQL database."""
    if path is not None:
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        return sum(file.stat().st_size for file in path.parent.glob(path.name + "*"))
    return db.session.scalar(text("SELECT pg_database_size(current_database())"))


def table_sizes(sqlite: bool) -> list[tuple[str, int]]:
    """Bytes of each history table with its indexes (and TOAST on PostgreSQL); none where SQLite lacks dbstat."""
    tables = HISTORY_TABLES
    if not sqlite:
        return [(table, db.session.scalar(text("SELECT pg_total_relation_size(:table)"), {"table": table}))
                for table in tables]
    try:
        return [(table, db.session.scalar(text("SELECT sum(pgsize) FROM dbstat WHERE name = :table"),
                                          {"table": table})) for table in tables]
    except OperationalError:
        return []


def time_bars(server: Server, now: datetime, runs: int) -> tuple[float, float, float]:
    """Milliseconds of daily_bars for one server: the first call, and the median and p90 of ``runs`` more."""
    def timed(call) -> float:
        began = time.perf_counter()
        call()
        return (time.perf_counter() - began) * 1000
    first = timed(lambda: daily_bars(server, now))
    times = sorted(timed(lambda: daily_bars(server, now)) for _ in range(runs))
    return first, statistics.median(times), times[int(len(times) * 0.9)]


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    logging.disable(logging.INFO)
    folder = Path(tempfile.mkdtemp(prefix="ninerstatus-bench-"))
    path = None if args.database_url else folder / "history.sqlite"
    url = args.database_url or f"sqlite:///{path}"
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "PLUGINS_FOLDER": str(folder / "plugins")},
                     check_secret=False)
    with app.app_context():
        upgrade()
        check_ids, servers, first_server = make_checks(args.checks, args.servers)
        end = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        start = int((end - timedelta(days=args.days)).timestamp())
        print(f"Writing {args.days} days of {args.checks} checks every {args.interval} s into {url}")
        simulation = Simulation(check_ids, servers, args.interval, args.seed)
        clock = Clock()
        recorded, pruned = write_year(simulation, start, args.days * 24, clock, lambda: database_size(path))
        size = database_size(path)
        raw_rows = db.session.scalar(select(func.count()).select_from(RawResults))
        raw_results = len(read_samples())
        blocks = dict(db.session.execute(select(TallyBlock.width, func.count()).group_by(TallyBlock.width)).all())
        daily = db.session.scalar(select(func.count()).select_from(HistoryRollup))
        first, median, p90 = time_bars(first_server, end, args.runs)
        with_sidebar = time_bars_of_all(end, args.runs)
        writing = clock.spent["recording"]
        print(f"Recorded {recorded:,} results in {writing:.0f} s ({recorded / writing:,.0f} results/s); "
              f"pruned {pruned:,} rows in {clock.spent['pruning']:.0f} s "
              f"({pruned / clock.spent['pruning']:,.0f} rows/s); simulating took {clock.spent['simulating results']:.0f} s")
        print(f"Rows kept: raw {raw_results:,} results in {raw_rows:,} packed rows; 5-minute {blocks.get(300, 0):,} hours; "
              f"hourly {blocks.get(3600, 0):,} days; daily {daily:,}")
        print(f"Database size on disk: {size / 1e6:.1f} MB "
              f"(goal under {SIZE_GOAL_MB} MB: ratio {size / 1e6 / SIZE_GOAL_MB:.2f})")
        for table, table_size in table_sizes(path is not None):
            print(f"  {table}: {table_size / 1e6:.1f} MB")
        print(f"90-day bars of one server: first {first:.2f} ms, median {median:.2f} ms, p90 {p90:.2f} ms "
              f"over {args.runs} runs (goal under {BARS_GOAL_MS} ms: ratio {median / BARS_GOAL_MS:.2f})")
        print(f"90-day strips of all {args.servers} servers (the sidebar, one query): median {with_sidebar:.2f} ms")


def time_bars_of_all(now: datetime, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        daily_bars_by_server(now)
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    main(sys.argv[1:])
