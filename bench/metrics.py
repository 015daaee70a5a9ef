"""Metrics benchmark: what one scrape of /metrics costs, as a ratio to drawing the home page.

Run by hand (not by the tests)::

    .venv/bin/python bench/metrics.py                 # SQLite, 30 days of history; a few minutes
    .venv/bin/python bench/metrics.py --days 365      # the full year of bench/pages.py (about 15 minutes)
    .venv/bin/python bench/metrics.py --database-url postgresql://postgres@127.0.0.1/ninerstatus_metrics

The site is bench/pages.py's: the demo's ten servers with ten checks each,
1,000 posts, ``--days`` of history through the real recorder, every check
probed once by the runner's own code. Then, in the benchmark's own process
(no HTTP server, so only the site's own work counts), ``--rounds`` turns of:
``--requests`` scrapes of /metrics, as many home pages drawn with every
cache off (what a page costs staff, or a visitor the page cache missed),
and as many home pages answered from the page cache, with request metrics
off and on (what counting every request costs). Each figure is the median
of the rounds in CPU milliseconds per request; the report gives the ratios.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable

from _targets import site_with_targets
from pages import build_site

TOKEN = "bench-metrics-token-0123456789"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a fresh, empty database (default: a new SQLite file)")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--checks-per-server", type=int, default=10)
    parser.add_argument("--days", type=int, default=30, help="days of history")
    parser.add_argument("--detailed-days", type=int, default=30,
                        help="latest days written at one result a minute (default: the 5-minute tier's 30)")
    parser.add_argument("--requests", type=int, default=100, help="requests of each kind per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args(argv)


def cpu_ms_per_request(client, path: str, requests: int, **options) -> float:
    """CPU milliseconds this process spends per GET of ``path`` (each must answer 200)."""
    started = time.process_time()
    for _ in range(requests):
        response = client.get(path, **options)
        assert response.status_code == 200, (path, response.status_code)
        response.get_data()
    return (time.process_time() - started) * 1000 / requests


def measure(site, requests: int, rounds: int) -> dict[str, float]:
    """Medians over ``rounds`` of each kind of request, taken in turns."""
    from ninerstatus import create_app

    uncached = {"PAGE_CACHE_SECONDS": 0, "SIDEBAR_CACHE_SECONDS": 0, "API_CACHE_SECONDS": 0}
    scraped = create_app({**site.config, **uncached, "METRICS_TOKEN": TOKEN}, check_secret=False).test_client()
    drawn = create_app({**site.config, **uncached}, check_secret=False).test_client()
    cached_plain = create_app({**site.config, "PAGE_CACHE_SECONDS": 3600}, check_secret=False).test_client()
    cached_counted = create_app({**site.config, "PAGE_CACHE_SECONDS": 3600, "METRICS_TOKEN": TOKEN},
                                check_secret=False).test_client()
    bearer = {"headers": {"Authorization": f"Bearer {TOKEN}"}}
    kinds: dict[str, Callable[[], float]] = {
        "scrape of /metrics": lambda: cpu_ms_per_request(scraped, "/metrics", requests, **bearer),
        "home page, nothing cached": lambda: cpu_ms_per_request(drawn, "/", requests),
        "home page from the page cache": lambda: cpu_ms_per_request(cached_plain, "/", requests * 10),
        "home page from the page cache, requests counted":
            lambda: cpu_ms_per_request(cached_counted, "/", requests * 10),
    }
    for kind in kinds.values():
        kind()  # warm up: imports, the first page drawn, the page cache filled
    figures: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(rounds):
        for name, kind in kinds.items():
            figures[name].append(kind())
    size = len(scraped.get("/metrics", **bearer).get_data())
    series = sum(1 for line in scraped.get("/metrics", **bearer).get_data(as_text=True).splitlines()
                 if line and not line.startswith("#"))
    return {**{name: statistics.median(values) for name, values in figures.items()},
            "bytes": size, "series": series}


def report(args: argparse.Namespace, figures: dict[str, float], database: str) -> None:
    print(f"\n{database}, {args.checks_per_server * 10} checks, {args.days} days of history; "
          f"medians of {args.rounds} rounds of {args.requests} requests (cached pages: x10), CPU ms per request:\n")
    for name in ("scrape of /metrics", "home page, nothing cached", "home page from the page cache",
                 "home page from the page cache, requests counted"):
        print(f"  {name:50} {figures[name]:8.3f} ms")
    scrape, page = figures["scrape of /metrics"], figures["home page, nothing cached"]
    plain, counted = figures["home page from the page cache"], figures["home page from the page cache, requests counted"]
    print(f"\n  one scrape ({figures['bytes']:,.0f} bytes, {figures['series']:,.0f} series) = "
          f"{scrape / page:.2f} home pages drawn with nothing cached")
    print(f"  counting requests adds {counted - plain:.3f} ms to a page from the page cache "
          f"({(counted - plain) / plain:+.0%})")


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with site_with_targets(args.database_url) as (site, app, ports):
        build_site(args, app, ports, ports.ca_file)
        figures = measure(site, args.requests, args.rounds)
    report(args, figures, "PostgreSQL" if args.database_url else "SQLite")


if __name__ == "__main__":
    main(sys.argv[1:])
