"""A site run as in production, for the tests of agents as real processes.

``ninerstatus serve`` and ``ninerstatus runner`` run as processes on the
test's database (SQLite or PostgreSQL), started as staff start them; staff
add a location over HTTP through the admin page, which shows its token
once; ``ninerstatus agent`` processes report to the site with that token.
Each program writes its output to a file of the test's folder (a pipe
nobody reads would stall it), and ``read`` prints them when a test fails.
The test process reads and seeds the same database through ``app``.
"""
from __future__ import annotations

import html
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from flask import Flask
from sqlalchemy import select

from ninerstatus.agents.locations import site_location
from ninerstatus.agents.models import AgentBatch, CheckLocation, Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Role
from ninerstatus.probing import TlsMode
from ninerstatus.timeutil import utcnow

from .. import processes
from ..admin.accounts import ADMIN_EMAIL, PASSWORD, add_user, csrf_token_in
from ..factories import make_server
from ..test_serve import _free_port
from ..waiting import wait_until

BIN = Path(sys.executable).parent
#: The server whose check the tests watch.
SERVER = "NC036"
STATE_ON_PAGE = re.compile(r'<dt>Status</dt><dd><span class="state">([^<]+)</span>')
TOKEN_RE = re.compile(r'<pre id="agent-token" class="token">([^<]+)</pre>')
RESULT_LINE = re.compile(r"result (\d+): check (\d+) (\w+) at (\S+):")
BATCH_LINE = re.compile(r"batch (\S+) (taken|was already taken): (\d+) results, (\d+) to (\d+)")


def start_logged(args: Sequence, log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``processes.start(args)`` with its output (both streams) going to ``log``, appended to (a program started
    again adds to what it said before)."""
    with open(log, "a", encoding="utf-8") as out:  # the program has its own copy once started
        return processes.start(args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@dataclass
class RunningAgent:
    """One ``ninerstatus agent`` process, its spool and its log (``-v``: every result and batch)."""

    name: str
    process: subprocess.Popen
    spool: Path
    log: Path

    def said(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def results(self) -> list[tuple[int, int, str, str]]:
        """What the agent logged it kept: (spool number, check id, status, checked at), in the log's order."""
        return [(int(n), int(check), status, at) for n, check, status, at in RESULT_LINE.findall(self.said())]

    def batches(self) -> list[tuple[str, str, int, int, int]]:
        """What the agent logged the site took: (batch id, how, results, first number, last number)."""
        return [(batch_id, how, int(count), int(first), int(last))
                for batch_id, how, count, first, last in BATCH_LINE.findall(self.said())]

    def stop(self) -> None:
        processes.stop(self.process)


@dataclass
class Site:
    """The web process and the runner of one site on ``app``'s database, and the agents reporting to it."""

    app: Flask
    folder: Path
    port: int = field(default_factory=_free_port)
    web: subprocess.Popen | None = None
    runner: subprocess.Popen | None = None
    agents: list[RunningAgent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.env = {key: value for key, value in os.environ.items() if not key.startswith("NINERSTATUS_")}
        self.env.update(NINERSTATUS_INSTANCE_PATH=str(self.folder / "instance"), NINERSTATUS_SECRET_KEY="s" * 40,
                        NINERSTATUS_DATABASE_URL=self.app.config["SQLALCHEMY_DATABASE_URI"])
        self._cookies = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self._cookies))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # ------------------------------------------------------------ processes

    def start_web(self) -> None:
        """``ninerstatus serve`` on the site's port, answering."""
        self.web = start_logged([BIN / "ninerstatus", "serve", "--port", self.port, "--workers", 1, "--threads", 4],
                                self.folder / "web.log", self.env)
        wait_until(self._answering, message=lambda: f"the site answering\n{self.read('web.log')}")

    def _answering(self) -> bool:
        assert self.web.poll() is None, f"serve exited with {self.web.returncode}: {self.read('web.log')}"
        try:
            return self.get("api/v2/status.json")[0] == 200
        except OSError:
            return False

    def stop_web(self) -> None:
        processes.stop(self.web)
        self.web = None

    def start_runner(self) -> None:
        """``ninerstatus runner``, as staff start it beside the web process."""
        self.runner = start_logged([BIN / "ninerstatus", "runner"], self.folder / "runner.log", self.env)

    def start_agent(self, name: str, token: str, *, prefix: Sequence[str] = (), site_url: str | None = None,
                    options: Sequence[str] = ()) -> RunningAgent:
        """``ninerstatus agent`` for location ``name`` (run through ``prefix``, e.g. in a network namespace)."""
        home = self.folder / f"agent-{name}"
        home.mkdir()
        token_file = home / "agent.token"
        token_file.write_text(token + "\n")
        token_file.chmod(0o600)
        env = {key: value for key, value in self.env.items() if not key.startswith("NINERSTATUS_")}
        env["NINERSTATUS_INSTANCE_PATH"] = str(home / "instance")  # no site here: only its plugins are read
        spool = home / "spool.sqlite"
        process = start_logged([*prefix, BIN / "ninerstatus", "agent", "--site", site_url or self.url,
                                "--token-file", token_file, "--spool", spool, "-v", *options],
                               home / "agent.log", env)
        agent = RunningAgent(name, process, spool, home / "agent.log")
        self.agents.append(agent)
        return agent

    def close(self) -> None:
        """Stop every program of the site."""
        for agent in self.agents:
            agent.stop()
        for process in (self.web, self.runner):
            if process is not None:
                processes.stop(process)

    def read(self, name: str) -> str:
        path = self.folder / name
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else "(nothing yet)"

    def logs(self) -> str:
        """Everything the site's programs and agents said, for a failing test's report."""
        parts = [f"--- {name}\n{self.read(name)}" for name in ("web.log", "runner.log")]
        parts += [f"--- agent {agent.name}\n{agent.said()}" for agent in self.agents]
        return "\n".join(parts)

    # ------------------------------------------------------------ HTTP

    def get(self, path: str) -> tuple[int, str]:
        """GET ``path`` as the staff session (signed in or not)."""
        try:
            with self._opener.open(self.url + path, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def get_json(self, path: str) -> Any:
        status, text = self.get(path)
        assert status == 200, (path, status, text[:500])
        return json.loads(text)

    def post_form(self, path: str, fields: Sequence[tuple[str, str]]) -> tuple[int, str]:
        """Send the form of ``path`` as a browser does: with the CSRF token of its page."""
        token = csrf_token_in(self.get(path)[1])
        body = urllib.parse.urlencode([*fields, ("csrf_token", token)]).encode()
        request = urllib.request.Request(self.url + path, data=body, method="POST")
        try:
            with self._opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def sign_in_as_admin(self) -> None:
        with self.app.app_context():
            add_user(ADMIN_EMAIL, Role.ADMIN, "Ann Admin")
        status, page = self.post_form("admin/login", [("email", ADMIN_EMAIL), ("password", PASSWORD)])
        assert status == 200 and "Sign out" in page, page[:500]

    def add_location(self, name: str, network: str, check_ids: Sequence[int]) -> str:
        """Add a location on the admin page probing ``check_ids``; return the token the page shows once."""
        status, page = self.post_form("admin/locations/new", [
            ("name", name), ("city", name), ("country", ""), ("network", network),
            *(("checks", str(check_id)) for check_id in check_ids)])
        found = TOKEN_RE.search(page)
        assert status == 200 and found, page[:2000]
        return html.unescape(found.group(1))


@contextmanager
def site_running(app: Flask, folder: Path, request) -> Iterator[Site]:
    """A ``Site`` for the test (``request``: pytest's); its programs stopped after it, their output printed if it
    failed."""
    failed_before = request.session.testsfailed
    site = Site(app, folder)
    try:
        yield site
    finally:
        site.close()
        if request.session.testsfailed > failed_before:
            print(site.logs())


# ------------------------------------------------------------ the database, as the test process reads it


def add_check(app: Flask, host: str, port: int, *, interval: int, timeout: float = 5.0, tls: TlsMode = TlsMode.NONE,
              **fields: Any) -> int:
    """An SMTP check of ``host:port`` on server NC036, probed by the site's own runner too; its id."""
    with app.app_context():
        check = Check(server=make_server(SERVER), type_name="smtp", label="Submission", host=host, port=port,
                      tls_mode=tls, interval_seconds=interval, timeout_seconds=timeout, next_due_at=utcnow(),
                      **fields)
        db.session.add(check)
        db.session.flush()
        own = site_location()
        if db.session.get(CheckLocation, (check.id, own.id)) is None:
            db.session.add(CheckLocation(check_id=check.id, location_id=own.id))
        db.session.commit()
        return check.id


def site_location_name(app: Flask) -> str:
    """The name of the site's own location (its runner's)."""
    with app.app_context():
        return db.session.scalar(select(Location.name).where(Location.is_site.is_(True)))


def seen_by(app: Flask, check_id: int) -> dict[str, tuple[str, str] | None]:
    """Each location's latest result of the check as (status, summary), by location name; None before its first."""
    with app.app_context():
        rows = db.session.execute(select(Location.name, CheckLocation.last_result)
                                  .join(CheckLocation, CheckLocation.location_id == Location.id)
                                  .where(CheckLocation.check_id == check_id))
        return {name: result and (result["status"], result["summary"]) for name, result in rows}


def seen_by_all(app: Flask, check_id: int, names: Collection[str],
                status: str | None = None) -> dict[str, tuple[str, str] | None] | None:
    """``seen_by`` once every location of ``names`` has a result (of ``status``, if given); else None."""
    seen = seen_by(app, check_id)
    return seen if all(seen.get(name) and status in (None, seen[name][0]) for name in names) else None


def taken(app: Flask, name: str) -> dict[str, int]:
    """The batches the site took from location ``name``: results by batch id, in the order the site took them."""
    with app.app_context():
        location = db.session.scalar(select(Location.id).where(Location.name == name))
        rows = db.session.execute(select(AgentBatch.batch_id, AgentBatch.results)
                                  .where(AgentBatch.location_id == location).order_by(AgentBatch.received_at))
        return dict(rows.all())


# ------------------------------------------------------------ what visitors see


class Shown(NamedTuple):
    """NC036 as visitors see it: the label on its page and in /api/servers, its check's status and summary there."""

    page: str
    api: str
    check: str
    summary: str

    @property
    def everywhere(self) -> str | None:
        """The label when the page and the API agree on it (the check's status saying the same), else None."""
        same = self.page == self.api == self.check.upper()  # a single check: its status is the server's
        return self.page if same else None


def public_state(site: Site) -> Shown:
    """What NC036's public page and /api/servers say now."""
    found = STATE_ON_PAGE.search(site.get(f"servers/{SERVER}")[1])
    listed = next(server for server in site.get_json("api/servers")["servers"] if server["code"] == SERVER)
    check = listed["checks"][0]
    return Shown(found.group(1) if found else "?", listed["label"], check["status"], check["summary"])


class Timeline:
    """The states a test saw, printed as they change (``pytest -s`` shows them)."""

    def __init__(self) -> None:
        self.start, self.last = time.monotonic(), None
        self.seen: list[object] = []

    def saw(self, what: object) -> object:
        """Note ``what`` (printed when it differs from the last thing seen) and return it."""
        self.seen.append(what)
        if what != self.last:
            print(f"  [{time.monotonic() - self.start:6.1f} s] {what}", flush=True)
            self.last = what
        return what
