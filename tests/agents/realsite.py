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
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from ninerstatus.models import Role

from .. import processes
from ..admin.accounts import ADMIN_EMAIL, PASSWORD, add_user, csrf_token_in
from ..test_serve import _free_port
from ..waiting import wait_until

BIN = Path(sys.executable).parent
TOKEN_RE = re.compile(r'<pre id="agent-token" class="token">([^<]+)</pre>')
RESULT_LINE = re.compile(r"result (\d+): check (\d+) (\w+) at (\S+):")
BATCH_LINE = re.compile(r"batch (\S+) (taken|was already taken): (\d+) results, (\d+) to (\d+)")


def _output(path: Path):
    """A file for a program's output (appended to, so a restarted program adds to what it said before)."""
    return open(path, "a", encoding="utf-8")  # noqa: SIM115: the program holds it; closed once started


def start_logged(args: Sequence, log: Path, env: dict[str, str]) -> subprocess.Popen:
    """``processes.start(args)`` with its output (both streams) going to ``log``."""
    with _output(log) as out:
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
                        NINERSTATUS_DATABASE_URL=self.app.config["SQLALCHEMY_DATABASE_URI"],
                        NINERSTATUS_SITE_NAME="Amsterdam")
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
