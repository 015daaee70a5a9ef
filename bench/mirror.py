"""Static mirror benchmark: a full export of a big site, and nginx serving the mirror vs one static file.

Run by hand (not by the tests)::

    .venv/bin/python bench/mirror.py                  # SQLite; 1,000 posts, a year of history
    .venv/bin/python bench/mirror.py --days 30 --duration 3 --rounds 1    # a quicker look

The site is bench/pages.py's: the demo's ten servers with ``--checks-per-server``
checks each (probed once through the runner, so every widget shows a result),
1,000 posts over a year and a year of history. Then ``ninerstatus
export-static`` runs as its own process, twice (the first export, then a
refresh beside it): wall and CPU seconds, and the process's peak resident
memory (from ``wait4``). Last, nginx (started here, with the README's
location for the mirror) serves the mirror's home page and a post page,
and, beside them, a copy of the home page as one plain static file: ``wrk
-t1`` rates in ``--rounds`` turns, medians, and each mirror page's rate as a
ratio to the plain file's. Goal (issue 13): the same rate, since both are
static files (a ratio near 100 %).
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from _common import (Children, add_bench_site_arguments, free_port, load_average, ninerstatus_command, require,
                     wait_for_port)
from _targets import site_with_targets
from pages import build_site, wrk

#: The README's location for a mirror under /status/ (tests/mirror/conftest.py serves the same), and a plain file.
NGINX_CONFIG = r"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {folder}/client;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /status/ {{
            try_files $uri $uri/index.html $uri/index.json =404;
            error_page 404 /status/404.html;
            charset utf-8;
            charset_types text/css application/javascript application/json application/atom+xml application/rss+xml;
            add_header Cache-Control "public, max-age=60";
        }}
        location = /plain.html {{
            charset utf-8;
            add_header Cache-Control "public, max-age=60";
        }}
    }}
}}
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_bench_site_arguments(parser)
    parser.add_argument("--rounds", type=int, default=3, help="turns of the mirror's pages and the plain file")
    parser.add_argument("--seed", type=int, default=5)
    return parser.parse_args(argv)


def export(site, folder: Path, base_url: str) -> tuple[float, float, float]:
    """Run ``ninerstatus export-static`` as a process of its own: its wall and CPU seconds, peak memory in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen(ninerstatus_command("export-static", str(folder), "--base-url", base_url),
                               env=site.environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    output = process.stdout.read().decode()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        sys.exit(f"export-static failed ({process.returncode}):\n{output}")
    print(f"  {output.strip()}", flush=True)
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def post_path(app) -> str:
    """The mirror's address of the newest visible post."""
    from ninerstatus.extensions import db
    from ninerstatus.models import Post

    with app.app_context():
        slug = db.session.scalar(select(Post.slug).where(Post.visible_clause())
                                 .order_by(Post.published_at.desc()).limit(1))
    return f"/status/posts/{slug}"


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    program = require("nginx", "nginx")
    with site_with_targets(args.database_url) as (site, app, ports), Children() as children:
        build_site(args, app, ports, ports.ca_file)
        root = site.folder / "www"
        root.mkdir()
        port = free_port()
        base_url = f"http://127.0.0.1:{port}/status/"
        print("Exporting", flush=True)
        first = export(site, root / "status", base_url)
        refresh = export(site, root / "status", base_url)
        files = sum(1 for path in (root / "status").resolve().rglob("*") if path.is_file())
        size = sum(path.stat().st_size for path in (root / "status").resolve().rglob("*") if path.is_file())
        shutil.copyfile(root / "status" / "index.html", root / "plain.html")
        site.folder.chmod(0o755)  # nginx's workers run as an unprivileged user when started as root
        config = site.folder / "nginx.conf"
        config.write_text(NGINX_CONFIG.format(folder=site.folder, port=port, root=root))
        wait_for_port(port, children.start([program, "-c", str(config), "-g", "daemon off;"]))
        paths = {"mirror home": "/status/", "mirror post": post_path(app), "plain file": "/plain.html"}
        load = load_average()
        rates: dict[str, list[float]] = {name: [] for name in paths}
        for _ in range(args.rounds):
            for name, path in paths.items():
                rates[name].append(wrk(port, path, args, who="nginx"))
    report(args, first, refresh, files, size, {name: statistics.median(r) for name, r in rates.items()}, load,
           "PostgreSQL" if args.database_url else "SQLite")


def report(args, first, refresh, files: int, size: int, rates: dict[str, float], load: float, database: str) -> None:
    print()
    print(f"Static mirror of a site with {args.posts:,} posts, {args.checks_per_server} checks on each of the demo's "
          f"servers and {args.days} days of history on {database}, {os.cpu_count()} CPUs "
          f"(load average {load:.2f} before):")
    print(f"  export-static: {files:,} files, {size / 2**20:,.1f} MiB")
    for name, (seconds, cpu, memory) in (("first export", first), ("refresh", refresh)):
        print(f"    {name:12} {seconds:6.1f} s ({cpu:6.1f} s of CPU, {cpu / files * 1000:4.1f} ms a file), "
              f"peak memory {memory:6.1f} MiB")
    print(f"  nginx, wrk -t1 -c{args.connections} -d{args.duration}s, medians of {args.rounds} rounds:")
    plain = rates["plain file"]
    for name, rate in rates.items():
        print(f"    {name:12} {rate:10,.0f}/s  {rate / plain:6.1%} of the plain file")
    print("  goal: the mirror's pages at the plain file's rate (they are static files too)")


if __name__ == "__main__":
    main(sys.argv[1:])
