"""A worker that has drawn nothing yet answers every public and API route at its very first request.

A new Python process builds the real app on the test's real database, then,
for each route, forks a child that makes that route its first request: each
child starts from exactly the state a freshly started web worker is in, and
one app build serves every route (building it per route would take a
process start each).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from ninerstatus.probing import Status

from .api.conftest import add_check
from .factories import make_post, make_server

ROOT = Path(__file__).resolve().parent.parent

#: A URL for each GET route of the visitors' and the machines' blueprints (all answer 200 but the favicon's redirect).
FIRST_REQUESTS = {
    "public.home": "/",
    "public.post": "/posts/mail-delays",
    "public.tags": "/tags/",
    "public.tag": "/tags/mail",
    "public.server": "/servers/NC036",
    "public.archive": "/archive/",
    "public.archive_month": "/archive/{year}/{month}",
    "public.search": "/search?q=delays",
    "public.favicon": "/favicon.ico",
    "public.site_feed": "/feed.atom",
    "public.server_feed": "/servers/NC036/feed.rss",
    "public.tag_feed": "/tags/mail/feed.atom",
    "api.servers": "/api/servers",
    "api.server": "/api/servers/NC036",
    "api.summary": "/api/v2/summary.json",
    "api.status": "/api/v2/status.json",
    "api.components": "/api/v2/components.json",
    "api.incidents": "/api/v2/incidents.json",
    "api.unresolved_incidents": "/api/v2/incidents/unresolved.json",
    "api.scheduled_maintenances": "/api/v2/scheduled-maintenances.json",
    "api.active_maintenances": "/api/v2/scheduled-maintenances/active.json",
    "api.upcoming_maintenances": "/api/v2/scheduled-maintenances/upcoming.json",
}

# Runs in the new process: build the app, then one forked child per URL, each printing "url status".
WORKER = """
import json, os, sys
from pathlib import Path
from tests.conftest import make_test_app

url, folder, paths = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
app = make_test_app(url, folder, PLUGINS_FOLDER=str(folder / "no-plugins"))
for path in paths:
    sys.stdout.flush()
    child = os.fork()
    if child == 0:
        try:
            status = app.test_client().get(path).status_code
        except BaseException as error:
            status = repr(error)
        print(path, status, flush=True)
        os._exit(0)
    os.waitpid(child, 0)
"""


def first_requests(database_url: str, folder: Path, paths: list[str]) -> dict[str, str]:
    """Each path's status as the first request of a fresh worker; the process group is killed however it ends."""
    process = subprocess.Popen([sys.executable, "-c", WORKER, database_url, str(folder), json.dumps(paths)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode == 0, err
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_every_public_and_api_route_answers_its_first_request_in_a_fresh_worker(app, tmp_path):
    with app.app_context():
        server = make_server("NC036")
        add_check(server, Status.OK, "STARTTLS ok", label="Submission")
        post = make_post("Mail delays", tags=("mail",), servers=(server,), age=timedelta(days=3))
        month = post.published_at
        url = str(app.config["SQLALCHEMY_DATABASE_URI"])
        routes = {rule.endpoint for rule in app.url_map.iter_rules()
                  if rule.endpoint.split(".")[0] in ("public", "api") and "GET" in rule.methods}
    assert routes == set(FIRST_REQUESTS), "name a first request for each new route"
    paths = [path.format(year=month.year, month=month.month) for path in FIRST_REQUESTS.values()]
    statuses = first_requests(url, tmp_path, paths)
    assert statuses == {path: "301" if path == "/favicon.ico" else "200" for path in paths}
