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
from pathlib import Path

from .public_routes import EXPECTED, make_routed_site, route_urls

ROOT = Path(__file__).resolve().parent.parent

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
        paths = route_urls(app, make_routed_site())
        url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    statuses = first_requests(url, tmp_path, paths)
    assert statuses == {path: str(EXPECTED.get(path, 200)) for path in paths}
