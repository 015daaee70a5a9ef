"""Pages benchmark: the home page, a server page and /api/v2/summary.json under wrk, as ratios to nginx.

Run by hand (not by the tests)::

    .venv/bin/python bench/pages.py                 # SQLite; about 15 minutes, most of it writing the year
    .venv/bin/python bench/pages.py --database-url postgresql://postgres@127.0.0.1/ninerstatus_pages

The site is the demo's ten servers with ten checks each (against loopback
servers this script starts), 1,000 posts over a year, and a year of history
written through the real recorder and pruning (``bench/history.py``'s
simulation; before the last ``--detailed-days`` one result a check an hour,
which leaves the same rows behind as one a minute once the raw results and
5-minute rollups of those days are pruned). Every check is probed once
through the real runner code, so the pages show live states. With
``--demo``, the site is the demo's content alone (its ten servers, a dozen
posts and its one check, of a loopback web server here).

Then, in one run, each rate from ``wrk -t1 -c32 -d10s``: ``ninerstatus
serve`` (granian) with a few worker and thread settings on the home page,
and gunicorn beside it for comparison, twice in turn; with the best granian
setting, each page (and the same pages signed in as an admin, the admin
dashboard and staff's lists of posts, servers and checks) drawn as shipped, with its page and API caches off (the
sidebar kept: what a page missed by the cache costs) and with nothing kept
(what drawing a page costs), with the server's CPU per request; and
``--rounds`` rounds of, for each page, nginx (started here on
its own configuration) serving the page's bytes as a static file, the page
through ``ninerstatus serve``, and the page again while ``ninerstatus
runner`` probes every check every ``--runner-interval`` seconds, with a
visitor reading it twice a second to see how far the newest result it
shows lags behind the database. Taking turns keeps load that drifts on a
shared machine from favouring one side; the report gives the medians.
Goals (issue 5): each page at 12 % of nginx's rate for its bytes or more,
content at most one probe interval stale, and under a fifth of the rate
lost while the runner writes (issue 14: drawn with nothing kept, the home
page at 150/s or more and a server page at 100/s or more on two workers,
staff pages as fast as visitors').
"""
from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, select, update

from _common import (BIN, Children, Site, add_bench_site_arguments, free_port, group_cpu_seconds, load_average,
                     ninerstatus_command, require, wait_for_port)
from _targets import Ports, site_with_targets
from history import Clock, Simulation, database_size, write_year

RATIO_GOAL = 0.12
#: Requests per second drawn with nothing cached, on two workers (issue 14).
HOME_GOAL = 150
SERVER_GOAL = 100
LOSS_GOAL = 0.20
PROBE_INTERVAL = 60
#: The account the benchmark signs in with (its password is made up for each run).
STAFF_EMAIL = "bench-admin@example.test"
#: The server whose page is measured: a public one of the demo's.
SERVER_CODE = "NC036"
PAGES = {"home page": ("/", "home.html"), "server page": (f"/servers/{SERVER_CODE}", "server.html"),
         "summary API": ("/api/v2/summary.json", "summary.json")}
#: When a check was last probed, as a page shows it: its widget's "checked <time>" or the API's ``checked_at``
#: (not the other times on a page: an announced maintenance lies in the future).
_TIME = re.compile(r'(?:checked <time datetime="|"checked_at": ?")([0-9T:.+-]+)')


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_bench_site_arguments(parser)
    parser.add_argument("--rounds", type=int, default=5, help="turns of nginx, cached, cached while writing")
    parser.add_argument("--settings", default="1x1,1x4,2x1,2x4,2x8,2x16,4x8",
                        help="`ninerstatus serve` settings to try, WORKERSxTHREADS")
    parser.add_argument("--gunicorn", default="2x1,2x8",
                        help="gunicorn settings to try beside them, WORKERSxTHREADS (1 thread: sync workers); "
                             "needs `pip install '.[bench]'`; empty to skip")
    parser.add_argument("--runner-interval", type=int, default=10,
                        help="seconds between probes of each check while the runner writes")
    parser.add_argument("--demo", action="store_true",
                        help="the demo's content only (ten servers, a dozen posts, one check), no added history")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", type=Path, metavar="FILE",
                        help="copy the site's SQLite database to FILE once it is built (for --reuse)")
    parser.add_argument("--reuse", type=Path, metavar="FILE",
                        help="start from a database kept with --keep instead of writing the site again: its "
                             "checks re-pointed at this run's responders and probed, the admin's password reset")
    args = parser.parse_args(argv)
    if args.database_url and (args.keep or args.reuse):
        parser.error("--keep and --reuse work on the SQLite database only")
    if args.reuse and not args.reuse.is_file():
        parser.error(f"--reuse: no file {args.reuse}")
    args.settings = [("granian", *setting) for setting in settings(args.settings)]
    if args.gunicorn and not (BIN / "gunicorn").exists():
        parser.error("gunicorn is not installed beside this Python: pip install '.[bench]' (or --gunicorn '')")
    args.settings += [("gunicorn", *setting) for setting in settings(args.gunicorn)]
    return args


def settings(text: str) -> list[tuple[int, int]]:
    """``"2x8,1x4"`` as ``[(2, 8), (1, 4)]``."""
    return [tuple(int(number) for number in item.split("x")) for item in text.split(",") if item.strip()]


# ---------------------------------------------------------------- the site

def build_site(args: argparse.Namespace, app, ports: Ports, ca_file: str) -> None:
    """Demo servers with checks, ``args.posts`` posts, a year of history, one live result per check, and an admin.

    With ``--demo``, the demo's own content instead: its servers and posts, and its one check (of this
    benchmark's loopback web server rather than of the site itself).
    """
    from ninerstatus.demo import add_site_check, load_demo
    from ninerstatus.extensions import db
    from ninerstatus.models import Post, Server

    with app.app_context():
        now = datetime.now(timezone.utc)
        load_demo(now)
        if args.demo:
            add_site_check(f"http://127.0.0.1:{ports.http}/")
        else:
            servers = list(db.session.scalars(select(Server).order_by(Server.display_order)))
            add_posts(args.posts - db.session.scalar(select(func.count(Post.id))), servers, now, args.seed)
            check_ids, server_of = add_checks(servers, args.checks_per_server, ports, ca_file)
            print(f"Writing {args.days} days of history of {len(check_ids)} checks", flush=True)
            write_history(check_ids, server_of, now, args)
        probe_every_check(app)
        add_admin(args.staff_password)


def copy_database(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` over ``target`` through SQLite's backup (a consistent copy, WAL and all)."""
    import sqlite3

    reading, writing = sqlite3.connect(source), sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        reading.close()
        writing.close()


def reuse_site(app, kept: Path, target: Path, ports: Ports, ca_file: str, password: str) -> None:
    """The site of an earlier run (``--keep``) in place of a new one: its checks probe this run's responders."""
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.models import User

    with app.app_context():
        db.engine.dispose()
        copy_database(kept, target)
        for type_name, port in (("banner", ports.banner), ("http", ports.http), ("smtp", ports.smtp)):
            db.session.execute(update(Check).where(Check.type_name == type_name).values(port=port))
        db.session.execute(update(Check).where(Check.ca_file.is_not(None)).values(ca_file=ca_file))
        db.session.commit()
        probe_every_check(app)
        user = db.session.scalar(select(User).where(User.email == STAFF_EMAIL))
        user.set_password(password)
        db.session.commit()


def add_admin(password: str) -> None:
    """The admin account the benchmark signs in with to draw pages as staff see them."""
    from ninerstatus.extensions import db
    from ninerstatus.models import Role, User

    user = User(email=STAFF_EMAIL, name="Bench Admin", role=Role.ADMIN)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()


def drawn_pages(app) -> dict[str, tuple[str, bool]]:
    """The pages measured as drawn, by name: (address, asked for signed in as staff).

    The home page, a server page, the newest post, the most used tag's page
    and the summary API; the same pages as an admin sees them, and the
    admin dashboard and lists of posts, servers and checks.
    """
    from ninerstatus.extensions import db
    from ninerstatus.models import Post, Tag, post_tags

    with app.app_context():
        post = db.session.scalars(Post.visible().limit(1)).one().slug
        tag = db.session.scalar(select(Tag.slug).join(post_tags).group_by(Tag.id, Tag.slug)
                                .order_by(func.count().desc(), Tag.slug).limit(1))
        db.session.rollback()
    public = {"home page": "/", "server page": f"/servers/{SERVER_CODE}", "post page": f"/posts/{post}",
              "tag page": f"/tags/{tag}", "summary API": "/api/v2/summary.json"}
    pages = {name: (path, False) for name, path in public.items()}
    pages.update({f"staff {name}": (path, True) for name, path in public.items() if name != "summary API"})
    pages.update({"staff dashboard": ("/admin/dashboard", True), "staff post list": ("/admin/posts", True),
                  "staff server list": ("/admin/servers", True), "staff check list": ("/admin/checks", True)})
    return pages


def sign_in(port: int, password: str) -> str:
    """Sign the benchmark's admin in through the sign-in form; returns the Cookie header that carries the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = f"http://127.0.0.1:{port}/admin/login"
    with opener.open(login, timeout=30) as response:
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.read().decode())[1]
    form = urllib.parse.urlencode({"email": STAFF_EMAIL, "password": password, "csrf_token": token}).encode()
    with opener.open(login, form, timeout=30) as response:
        if urllib.parse.urlsplit(response.url).path == "/admin/login":
            sys.exit("the benchmark's admin could not sign in")
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def add_posts(count: int, servers, now: datetime, seed: int) -> None:
    """``count`` more published posts over the year, written like the demo's, a fifth with updates."""
    import random

    from ninerstatus.demo import POSTS
    from ninerstatus.extensions import db
    from ninerstatus.models import Post, PostKind, PostStatus, PostUpdate, Tag, UpdateState
    from ninerstatus.slugs import slugify

    rng = random.Random(seed)
    by_code = {server.code: server for server in servers}
    tags = {tag.name: tag for tag in db.session.scalars(select(Tag))}
    for number in range(count):
        _, _, title, kind, codes, tag_names, body = POSTS[number % len(POSTS)]
        title = f"{title} ({number // len(POSTS) + 2})"
        published = now - timedelta(minutes=rng.randrange(5, 365 * 24 * 60))
        post = Post(title=title, slug=f"{slugify(title, 200)}-{number}", kind=kind, status=PostStatus.PUBLISHED,
                    published_at=published, created_at=published, updated_at=published)
        post.set_body(body)
        post.servers = [by_code[code] for code in codes]
        post.tags = [tags[name] for name in tag_names]
        if kind is PostKind.INCIDENT and number % 5 == 0:
            for step, state in enumerate((UpdateState.INVESTIGATING, UpdateState.IDENTIFIED, UpdateState.RESOLVED)):
                update_ = PostUpdate(state=state, created_at=published + timedelta(minutes=20 * step + 5))
                update_.set_body(f"<p>{state.value.capitalize()}: see the report above.</p>")
                post.updates.append(update_)
        db.session.add(post)
    db.session.commit()


def add_checks(servers, per_server: int, ports: Ports, ca_file: str) -> tuple[list[int], dict[int, int]]:
    """``per_server`` checks on each server, a TCP banner, HTTP and SMTP with STARTTLS in turn."""
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.probing import TlsMode

    shapes = [dict(type_name="banner", label="Greeting", port=ports.banner, settings={"expect": "220"}),
              dict(type_name="http", label="Web", port=ports.http, settings={}),
              dict(type_name="smtp", label="Submission", port=ports.smtp, tls_mode=TlsMode.STARTTLS,
                   ca_file=ca_file, settings={})]
    checks = []
    for server in servers:
        for number in range(per_server):
            shape = dict(shapes[number % len(shapes)])
            shape["label"] = f"{shape['label']} {number + 1}"
            checks.append(Check(server=server, host="127.0.0.1", interval_seconds=PROBE_INTERVAL,
                                timeout_seconds=10, display_order=number, **shape))
    db.session.add_all(checks)
    db.session.commit()
    return [check.id for check in checks], {check.id: check.server_id for check in checks}


def write_history(check_ids: list[int], server_of: dict[int, int], now: datetime, args) -> None:
    """The year through the real recorder and pruning, as bench/history.py writes it (with its progress lines)."""
    from ninerstatus.extensions import db

    url = db.engine.url
    path = Path(url.database) if url.get_backend_name() == "sqlite" else None
    end = int(now.replace(minute=0, second=0, microsecond=0).timestamp())
    detailed = min(args.detailed_days, args.days)
    clock = Clock()
    start = end - args.days * 86400
    hourly = Simulation(check_ids, server_of, 3600, args.seed)
    write_year(hourly, start, (args.days - detailed) * 24, clock, lambda: database_size(path))
    minutely = Simulation(check_ids, server_of, PROBE_INTERVAL, args.seed)
    write_year(minutely, end - detailed * 86400, detailed * 24, clock, lambda: database_size(path))


def probe_every_check(app) -> None:
    """Probe each check once through the runner's own code, so every widget shows a live result."""
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.runner.loop import ProbeRunner

    db.session.execute(update(Check).values(next_due_at=datetime.now(timezone.utc)))
    db.session.commit()
    with ProbeRunner(app) as runner:
        runner.run_due()


def set_intervals(app, seconds: int) -> None:
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db

    with app.app_context():
        db.session.execute(update(Check).values(interval_seconds=seconds, next_due_at=None))
        db.session.commit()


# ---------------------------------------------------------------- servers and load

NGINX_CONFIG = """\
worker_processes auto;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; application/json json; }}
    access_log off;
    client_body_temp_path {folder}/client;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {folder}/static;
    }}
}}
"""


def start_nginx(folder: Path, pages: dict[str, bytes], children: Children) -> int:
    """nginx serving each page's bytes as a static file; returns its port."""
    program = require("nginx", "nginx")
    static = folder / "static"
    static.mkdir()
    for name, (_, filename) in PAGES.items():
        (static / filename).write_bytes(pages[name])
    folder.chmod(0o755)  # nginx's workers run as an unprivileged user when started as root
    port = free_port()
    config = folder / "nginx.conf"
    config.write_text(NGINX_CONFIG.format(folder=folder, port=port))
    process = children.start([program, "-c", str(config), "-g", "daemon off;"])
    wait_for_port(port, process)
    return port


@dataclass(frozen=True)
class Served:
    """A server the benchmark started: where it listens, and its process group (its workers' CPU is counted)."""

    port: int
    pgid: int


def serve(site: Site, server: str, workers: int, threads: int, children: Children, **config: object) -> Served:
    """The site served with ``workers`` and ``threads``, once it answers.

    ``server`` is "granian" (``ninerstatus serve``, what the project ships) or
    "gunicorn" (sync workers for one thread, gthread workers for more).
    """
    port = free_port()
    env = site.environment()
    env.update({f"NINERSTATUS_{key}": str(value) for key, value in config.items()})
    if server == "granian":
        command = ninerstatus_command("serve", "--port", str(port), "--workers", str(workers),
                                     "--threads", str(threads))
    else:
        command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                   "--threads", str(threads), "ninerstatus.wsgi:app"]
    process = children.start(command, env=env, log=site.folder / f"serve-{port}.log")
    wait_for_port(port, process)
    for path, _ in PAGES.values():  # each worker builds its first pages before they are timed
        for _ in range(4 * workers):
            fetch(port, path)
    return Served(port, process.pid)


def fetch(port: int, path: str, cookie: str | None = None) -> bytes:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def wrk(port: int, path: str, args: argparse.Namespace, who: str = "ninerstatus serve") -> float:
    """Requests per second of ``wrk -t1 -c32`` on ``path`` (see ``wrk_run``)."""
    return wrk_run(port, path, args, who)[0]


def wrk_run(port: int, path: str, args: argparse.Namespace, who: str = "ninerstatus serve",
            cookie: str | None = None) -> tuple[float, int]:
    """Requests per second of ``wrk -t1 -c32`` on ``path``, and how many the server drew; exits on answers not 2xx, 3xx.

    ``cookie`` is sent with every request (a signed-in session). Socket errors
    (timeouts: a request unanswered after wrk's 2 s; reads: the server closed
    a connection wrk meant to keep) are added up in ``SOCKET_ERRORS`` under
    ``who`` and the path, and said in the report.
    """
    program = require("wrk", "wrk")
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    output = subprocess.run([program, "-t1", f"-c{args.connections}", f"-d{args.duration}s", *headers,
                             f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    if "Non-2xx or 3xx responses" in output:
        sys.exit(f"wrk on {path}: {output}")
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if errors:
        SOCKET_ERRORS[f"{who} {path}"] += Counter(dict(zip(("connect", "read", "write", "timeout"),
                                                             map(int, errors.groups()))))
    # A request wrk gave up on (its 2 s timeout) was still drawn by the server: it counts for the CPU spent.
    drawn = int(re.search(r"(\d+) requests in", output)[1]) + (int(errors[4]) if errors else 0)
    return float(re.search(r"Requests/sec:\s+([0-9.]+)", output)[1]), drawn


#: Socket errors wrk saw, by kind, for each server and path.
SOCKET_ERRORS: defaultdict[str, Counter] = defaultdict(Counter)


def newest_in_database(app, summary: bool) -> datetime:
    """What a page drawn now would show as its newest result time.

    Pages show every public check's time; the summary shows each server's
    oldest (its ``checked_at``), so its newest is the newest of those.
    """
    from ninerstatus.checks.models import Check
    from ninerstatus.extensions import db
    from ninerstatus.models import Server, Visibility

    with app.app_context():
        rows = db.session.execute(
            select(Check.server_id, Check.last_checked_at).join(Server)
            .where(Server.visibility == Visibility.PUBLIC, Check.visibility == Visibility.PUBLIC, Check.enabled,
                   Check.last_checked_at.is_not(None))).all()
        db.session.rollback()
    if not summary:
        return max(checked_at for _, checked_at in rows)
    oldest: dict[int, datetime] = {}
    for server_id, checked_at in rows:
        oldest[server_id] = min(checked_at, oldest.get(server_id, checked_at))
    return max(oldest.values())


class Visitor(threading.Thread):
    """Reads a page twice a second and notes how far its newest result lags behind the database's."""

    def __init__(self, app, port: int, path: str, seconds: float) -> None:
        super().__init__(daemon=True)
        self.app, self.port, self.path, self.seconds = app, port, path, seconds
        self.lags: list[float] = []

    def run(self) -> None:
        ends = time.monotonic() + self.seconds
        while time.monotonic() < ends:
            truth = newest_in_database(self.app, summary=self.path.endswith(".json"))
            shown = [datetime.fromisoformat(moment) for moment in _TIME.findall(fetch(self.port, self.path).decode())]
            if shown:
                self.lags.append(max(0.0, (truth - max(shown)).total_seconds()))
            time.sleep(0.5)


# ---------------------------------------------------------------- the run

def fastest(sweep: dict[tuple[str, int, int], list[float]], server: str = "granian") -> tuple[str, int, int] | None:
    """The setting of ``server`` with the best median rate on the home page; None when none was tried."""
    return max((setting for setting in sweep if setting[0] == server),
               key=lambda setting: statistics.median(sweep[setting]), default=None)


@dataclass
class Figures:
    sizes: dict[str, int]
    sweep: dict[tuple[str, int, int], list[float]]  # two rates of the home page per server setting
    # By cache setting (DRAWN), each drawn page's rate and the server's CPU milliseconds per request.
    drawn: dict[str, dict[str, tuple[float, float]]]
    # Per page, one figure a round: nginx, the cached page, the cached page while the runner writes.
    nginx: dict[str, list[float]]
    cached: dict[str, list[float]]
    writing: dict[str, list[float]]
    staleness: dict[str, list[float]]  # seen by the visitor, in seconds
    results_written: int
    load: float  # the machine's load average before the measurements

    def ratio(self, name: str) -> float:
        """The median over the rounds of the cached page's rate over nginx's."""
        return statistics.median(c / n for c, n in zip(self.cached[name], self.nginx[name]))

    def loss(self, name: str) -> float:
        """The median over the rounds of the rate lost while the runner writes."""
        return statistics.median(1 - w / c for w, c in zip(self.writing[name], self.cached[name]))


def results_between(app, begin: datetime, end: datetime) -> int:
    from ninerstatus.extensions import db
    from ninerstatus.history.raw import read_samples

    with app.app_context():
        count = len(read_samples(start=int(begin.timestamp()), end=int(end.timestamp())))
        db.session.rollback()
    return count


#: The page and API caches off: what a page nobody asked for in the last few seconds costs.
MISS = {"PAGE_CACHE_SECONDS": 0, "API_CACHE_SECONDS": 0}
#: The cache settings each drawn page is measured with: as shipped; the page missed by the page cache (the
#: sidebar kept); nothing kept at all, what drawing the page costs (staff, a crawler, the first visitor).
DRAWN = {"cached": {}, "missed": MISS, "uncached": MISS | {"SIDEBAR_CACHE_SECONDS": 0}}


def rate_of(site: Site, setting: tuple[str, int, int], path: str, args: argparse.Namespace,
            **config: object) -> float:
    """Requests per second of ``path`` served with ``setting`` and ``config``."""
    with Children() as children:
        served = serve(site, *setting, children, **config)
        return wrk(served.port, path, args, f"{setting[0]} {setting[1]}x{setting[2]}")


def measure_drawn(site: Site, setting: tuple[str, int, int], pages: dict[str, tuple[str, bool]],
                  args: argparse.Namespace) -> dict[str, dict[str, tuple[float, float]]]:
    """Each page's rate and the server's CPU per request under each of DRAWN's cache settings, in turn.

    The CPU is that of the server's processes (its workers) over the wrk run,
    divided by the requests wrk made: on a machine shared with other work it
    moves far less than the rate does.
    """
    cookie = None
    drawn: dict[str, dict[str, tuple[float, float]]] = {}
    for name, config in DRAWN.items():
        drawn[name] = {}
        with Children() as children:
            served = serve(site, *setting, children, **config)
            cookie = cookie or sign_in(served.port, args.staff_password)
            for page, (path, staff) in pages.items():
                for _ in range(4 * setting[1]):  # every worker draws the page once before it is timed
                    fetch(served.port, path, cookie if staff else None)
                before = group_cpu_seconds(served.pgid)
                rate, requests = wrk_run(served.port, path, args, f"{setting[0]} {setting[1]}x{setting[2]}",
                                         cookie if staff else None)
                drawn[name][page] = (rate, (group_cpu_seconds(served.pgid) - before) / max(requests, 1) * 1000)
        print(f"{name}: " + ", ".join(f"{page} {rate:,.0f}/s ({cpu:.1f} ms CPU)"
                                      for page, (rate, cpu) in drawn[name].items()), flush=True)
    return drawn


def measure(args: argparse.Namespace, site: Site, app) -> Figures:
    """Every rate of the report; what is compared is measured in turns, so drifting load hits both sides."""
    load = load_average()
    with Children() as children:
        port = serve(site, "granian", 1, 1, children).port
        pages = {name: fetch(port, path) for name, (path, _) in PAGES.items()}
    home = PAGES["home page"][0]
    sweep: dict[tuple[str, int, int], list[float]] = {setting: [] for setting in args.settings}
    for turn in range(2):
        for setting in args.settings if turn == 0 else reversed(args.settings):
            sweep[setting].append(rate_of(site, setting, home, args))
            print(f"{setting[0]} --workers {setting[1]} --threads {setting[2]}: home page "
                  f"{sweep[setting][-1]:,.0f}/s", flush=True)
    best = fastest(sweep)

    drawn = measure_drawn(site, best, drawn_pages(app), args)

    set_intervals(app, args.runner_interval)
    nginx, cached, writing, staleness = ({name: [] for name in PAGES} for _ in range(4))
    written = 0
    with Children() as children:
        static = start_nginx(site.folder, pages, children)
        port = serve(site, *best, children).port
        for turn in range(args.rounds):
            for name, (path, filename) in PAGES.items():
                nginx[name].append(wrk(static, f"/{filename}", args, "nginx"))
                cached[name].append(wrk(port, path, args))
                with Children() as runner:
                    runner.start(ninerstatus_command("runner"), env=site.environment(),
                                 log=site.folder / "runner.log")
                    time.sleep(3)  # past its start-up, probing the checks that fell due meanwhile
                    visitor = Visitor(app, port, path, args.duration)
                    visitor.start()
                    begin = datetime.now(timezone.utc)
                    writing[name].append(wrk(port, path, args))
                    written += results_between(app, begin, datetime.now(timezone.utc))
                    visitor.join()
                    staleness[name] += visitor.lags
                print(f"round {turn + 1}, {name}: nginx {nginx[name][-1]:,.0f}/s, cached {cached[name][-1]:,.0f}/s, "
                      f"while the runner writes {writing[name][-1]:,.0f}/s", flush=True)
    sizes = {name: len(body) for name, body in pages.items()}
    return Figures(sizes, sweep, drawn, nginx, cached, writing, staleness, written, load)


def report(args: argparse.Namespace, figures: Figures, database: str) -> None:
    best = fastest(figures.sweep)
    print()
    content = "the demo's content" if args.demo else f"{args.posts:,} posts and {args.days} days of history"
    print(f"Pages of a site with {content} on {database}, "
          f"{os.cpu_count()} CPUs (load average {figures.load:.2f} before), "
          f"wrk -t1 -c{args.connections} -d{args.duration}s, medians of {args.rounds} rounds:")
    print("  home page by server and WORKERSxTHREADS (median of 2):")
    for server, what in (("granian", "ninerstatus serve (granian)"), ("gunicorn", "gunicorn")):
        rates = {setting[1:]: statistics.median(figures.sweep[setting])
                 for setting in figures.sweep if setting[0] == server}
        if rates:
            print(f"    {what}: " + ", ".join(f"{w}x{t} {rate:,.0f}/s" for (w, t), rate in rates.items()))
    print(f"    best: granian {best[1]}x{best[2]}, used for the rest", end="")
    rival = fastest(figures.sweep, "gunicorn")
    if rival:
        print(f"; best gunicorn ({rival[1]}x{rival[2]}) at "
              f"{statistics.median(figures.sweep[rival]) / statistics.median(figures.sweep[best]):.0%} of it", end="")
    print()
    print(f"  {'':12} {'bytes':>7} {'nginx/s':>9} {'cached/s':>9} {'ratio':>6} {'missed/s':>8} {'uncached/s':>10} "
          f"{'writing/s':>9} {'loss':>6}  staleness: median / max")
    for name in PAGES:
        nginx, cached = statistics.median(figures.nginx[name]), statistics.median(figures.cached[name])
        lags = figures.staleness[name]
        lag = f"{statistics.median(lags):.1f} s / {max(lags):.1f} s" if lags else "no result times shown"
        print(f"  {name:12} {figures.sizes[name]:7,} {nginx:9,.0f} {cached:9,.0f} {figures.ratio(name):6.1%} "
              f"{figures.drawn['missed'][name][0]:8,.0f} {figures.drawn['uncached'][name][0]:10,.0f} "
              f"{statistics.median(figures.writing[name]):9,.0f} {figures.loss(name):6.1%}  {lag}")
    print(f"  goals: each ratio at least {RATIO_GOAL:.0%}; loss while the runner writes under {LOSS_GOAL:.0%}; "
          f"content at most one probe interval ({PROBE_INTERVAL} s) old")
    report_drawn(figures.drawn, best)
    for where, errors in SOCKET_ERRORS.items():
        print(f"  wrk socket errors, {where}: " + ", ".join(f"{kind} {count:,}" for kind, count in errors.items()))
    print(f"  the runner wrote {figures.results_written:,} results while it was measured "
          f"({args.rounds} x {len(PAGES)} x {args.duration} s, every check every {args.runner_interval} s); "
          "staleness: how far the newest result a visitor saw lagged behind the database when they asked")


def report_drawn(drawn: dict[str, dict[str, tuple[float, float]]], best: tuple[str, int, int]) -> None:
    """Each drawn page's rates with its caches on, missed and off, the ratio of drawn to cached, and its CPU."""
    print(f"  pages drawn, {best[0]} {best[1]}x{best[2]}: requests/s and the server's CPU per request "
          "(ms, all its workers together):")
    print(f"  {'':22} {'cached/s':>9} {'CPU':>6} {'missed/s':>9} {'CPU':>6} {'uncached/s':>10} {'CPU':>6} "
          f"{'uncached/cached':>15}")
    for page in drawn["uncached"]:
        (cached, cached_cpu), (missed, missed_cpu), (uncached, uncached_cpu) = (drawn[name][page] for name in DRAWN)
        print(f"  {page:22} {cached:9,.0f} {cached_cpu:6.2f} {missed:9,.0f} {missed_cpu:6.2f} {uncached:10,.0f} "
              f"{uncached_cpu:6.2f} {uncached / cached:15.1%}")
    print(f"  goals with nothing kept: home page at least {HOME_GOAL}/s, server page at least {SERVER_GOAL}/s on "
          "two workers; staff pages at least as fast as visitors'")


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    args.staff_password = secrets.token_urlsafe(16)
    with site_with_targets(args.database_url) as (site, app, ports):
        if args.reuse:
            reuse_site(app, args.reuse, site.sqlite_path, ports, ports.ca_file, args.staff_password)
        else:
            build_site(args, app, ports, ports.ca_file)
        if args.keep:
            copy_database(site.sqlite_path, args.keep)
        figures = measure(args, site, app)
    report(args, figures, "PostgreSQL" if args.database_url else "SQLite")


if __name__ == "__main__":
    main(sys.argv[1:])
