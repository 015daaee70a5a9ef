"""Phases a plugin names itself show on the staff's probe page; stored timings of any shape never break a page."""
from __future__ import annotations

import re

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.timeutil import utcnow

from ..factories import make_server
from ..guide_examples import install_frames_example, toy_frames_server  # noqa: F401 - a fixture


@pytest.fixture
def app_config(tmp_path):
    """The site loads the guide's frames example from a local plugins folder, as a plugin author would."""
    return {"PLUGINS_FOLDER": str(install_frames_example(tmp_path / "guide_plugins"))}


def add_frames_check(app, port: int = 7070, last_result: object = None) -> int:
    """A public frames check on NC036, with ``last_result`` stored as it is (as a hand edit could leave it)."""
    with app.app_context():
        check = Check(server=make_server("NC036"), type_name="frames", label="Toy frames", host="127.0.0.1",
                      port=port, settings={}, interval_seconds=60, timeout_seconds=2,
                      last_result=last_result, last_checked_at=utcnow() if last_result is not None else None)
        db.session.add(check)
        db.session.commit()
        return check.id


def timings_on(page: str) -> list[str]:
    """The phase names the probe page lists under Timings, in order."""
    listed = page.split("<h2>Timings</h2>")[1].split("</ul>")[0]
    return re.findall(r"<li>(\w+): [0-9.]+ ms</li>", listed)


def test_probe_now_lists_the_phases_the_plugin_named_in_the_order_they_ran(app, auth, toy_frames_server):
    check_id = add_frames_check(app, toy_frames_server.port)
    auth.login()
    response = auth.post(f"/admin/checks/{check_id}/probe")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Toy frames on NC036: OK" in page and "S: [19 bytes] FRAMES/1 toy server" in page
    assert timings_on(page) == ["resolve", "connect", "greeting", "ping", "total"]


def stored(timings: object) -> dict:
    """A stored result of the frames check carrying ``timings``."""
    return {"status": "WARNING", "summary": "stored-summary-marker", "error_kind": None, "timings": timings,
            "tls": None, "details": {}, "subchecks": [], "metrics": {}, "transcript": [],
            "checked_at": utcnow().isoformat()}


# Releases before free phase names stored every phase of their fixed set, None where it did not happen.
OLDER_RELEASE = {"resolve": 0.001, "connect": 0.002, "banner": 0.2, "starttls": None, "tls": None,
                 "first_byte": None, "total": 0.31}


@pytest.mark.parametrize("timings", [
    OLDER_RELEASE,
    {"greeting": 0.001, "<script>alert('phase')</script>": 1.0, "total": 0.31},
    {"greeting": "slow", "ping": None, "total": 0.31},
    {"greeting": -1, "ping": True, "total": [0.31]},
    {f"phase_{n}": 0.001 for n in range(5000)},
    {"x" * 100_000: 0.001},
    ["greeting", 0.001],
    "greeting=0.001",
], ids=["older-release", "markup-as-name", "text-as-value", "odd-values", "thousands-of-phases", "huge-name",
        "a-list", "text"])
def test_stored_timings_of_any_shape_leave_every_page_answering(app, auth, client, timings):
    add_frames_check(app, last_result=stored(timings))
    for url in ("/", "/servers/NC036", "/api/servers", "/api/servers/NC036", "/api/v2/summary.json"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "<script>alert('phase')" not in response.get_data(as_text=True), url
    auth.login()
    staff = auth.client.get("/admin/checks")
    assert staff.status_code == 200
    assert "stored-summary-marker" in staff.get_data(as_text=True)  # the result read, its bad phases left out


def test_a_result_stored_by_an_older_release_still_shows_its_latency(app, client):
    add_frames_check(app, last_result=stored(OLDER_RELEASE))
    assert "310 ms" in client.get("/servers/NC036").get_data(as_text=True)
    [check] = client.get("/api/servers/NC036").get_json()["checks"]
    assert check["latency_ms"] == 310
