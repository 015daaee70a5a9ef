"""The demo `make run` loads: the status site checks itself live; nothing else pretends to be probed."""
from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from ninerstatus.checks.models import Check
from ninerstatus.checks.status import server_state
from ninerstatus.extensions import db
from ninerstatus.models import Server

from .conftest import reread


@pytest.fixture
def served(ctx):
    """The site itself, served on a loopback port as `make run` serves it."""
    server = make_server("127.0.0.1", 0, ctx, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


def test_demo_gives_the_status_website_one_http_check_of_the_site_itself(ctx, runner):
    output = runner.invoke(args=["demo", "--site-url", "http://127.0.0.1:8123/"]).output
    assert "NC042 checks this site at http://127.0.0.1:8123/" in output
    [check] = db.session.scalars(db.select(Check)).all()
    assert (check.server.code, check.type_name, check.host, check.port) == ("NC042", "http", "127.0.0.1", 8123)
    assert check.settings["path"] == "/" and check.settings["expect_body"] == "Systems at a Glance"
    runner.invoke(args=["demo", "--site-url", "http://127.0.0.1:8123/"])
    assert db.session.scalar(db.select(db.func.count(Check.id))) == 1


def test_with_the_runner_the_demo_shows_live_states_and_says_what_is_not_probed(ctx, runner, served, probe_runner,
                                                                                clock, client):
    runner.invoke(args=["demo", "--site-url", served])
    reread()
    db.session.execute(db.update(Check).values(next_due_at=clock.now))
    db.session.commit()
    assert probe_runner.run_due() == 1
    reread()
    servers = {s.code: s for s in db.session.scalars(db.select(Server))}
    nc042 = servers["NC042"]
    assert nc042.checks[0].result.summary.startswith("200 OK")
    assert server_state(nc042, clock.now).label == "OPERATIONAL"
    assert server_state(servers["NC023"]).label == "INTERNAL"

    page = client.get("/").get_data(as_text=True)
    glance = page[page.index("Systems at a Glance"):page.index("Recent Posts")]
    nc036 = glance[glance.index('href="/servers/NC036"'):glance.index('href="/servers/NC040"')]
    assert "OPERATIONAL" in nc036 and "as listed; not probed" in nc036
