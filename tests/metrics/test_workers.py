"""`ninerstatus serve` with several worker processes: every scrape reports every worker's requests."""
from __future__ import annotations

import http.client
import os
import subprocess
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict, mmap_key

from ninerstatus.metrics.web import WORKER_FOLDER

from ..test_serve import BIN, _free_port, _started
from ..waiting import wait_until
from .scraping import BEARER, TOKEN, Scrape

STATUS_LABELS = {"endpoint": "api.status", "method": "GET", "status": "2xx"}


def _request(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    """GET ``path`` on a connection of its own (so the workers share the requests out between them)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _pids_counting(folder: Path) -> set[str]:
    """The processes that have written request counts into ``folder``."""
    return {path.stem.rpartition("_")[2] for path in folder.glob("counter_*.db")}


def _left_by_an_earlier_run(folder: Path) -> None:
    """Counts a serve that ended would have left: 1,000 requests of the status API by process 999999."""
    folder.mkdir(parents=True)
    stale = MmapedDict(str(folder / "counter_999999.db"))
    stale.write_value(mmap_key("ninerstatus_http_requests", "ninerstatus_http_requests_total",
                               tuple(STATUS_LABELS), tuple(STATUS_LABELS.values()), "left over"), 1000.0, 0.0)
    stale.close()


def test_every_scrape_adds_up_the_requests_of_all_workers(tmp_path):
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("NINERSTATUS_") and key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(NINERSTATUS_INSTANCE_PATH=str(tmp_path), NINERSTATUS_SECRET_KEY="s" * 40,
               NINERSTATUS_DATABASE_URL=f"sqlite:///{tmp_path / 'site.sqlite'}", NINERSTATUS_METRICS_TOKEN=TOKEN)
    subprocess.run([BIN / "ninerstatus", "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    folder = tmp_path / WORKER_FOLDER
    _left_by_an_earlier_run(folder)
    port = _free_port()
    with _started([BIN / "ninerstatus", "serve", "--port", port, "--workers", 2, "--threads", 2], env, port):
        sent = [1]  # the request that found the site answering

        def both_workers_answered() -> bool:
            if len(_pids_counting(folder)) >= 2:
                return True
            assert _request(port, "/api/v2/status.json")[0] == 200
            sent[0] += 1
            return False

        wait_until(both_workers_answered, interval=0, message=lambda: f"only {_pids_counting(folder)} answered")
        for _ in range(6):  # each scrape is answered by either worker
            status, text = _request(port, "/metrics", BEARER)
            assert status == 200
            assert Scrape(text).value("ninerstatus_http_requests_total", **STATUS_LABELS) == sent[0]
        assert "999999" not in _pids_counting(folder)  # serve emptied the folder before its workers started
