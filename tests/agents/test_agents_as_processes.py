"""Agents as real processes against a site run as in production: ``ninerstatus serve`` and ``ninerstatus runner``
on the test's database, locations added by an admin over HTTP, ``ninerstatus agent`` processes probing a real SMTP
server on loopback. Run with ``-s`` to see the states the test goes through."""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator

import pytest

from ninerstatus.agents.agent import agent_version

from ..plugins.mailservers import SmtpServer
from ..waiting import PATIENCE, wait_until
from .realsite import (Site, Timeline, add_check, public_state, seen_by, seen_by_all, site_location_name, site_running,
                       taken)
#: The site stays down this long, as the issue asks.
OUTAGE_SECONDS = 60
#: The agent's pauses between attempts grow to a minute while the site is down: once it is back, the next
#: attempt may come a minute after the last, and the replay must be waited for that long beyond PATIENCE.
REPLAY_PATIENCE = PATIENCE + 60


@pytest.fixture
def smtp_target() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    if not server.loop.is_closed():  # unless the test stopped it
        server.stop()


@pytest.fixture
def site(app, tmp_path, request) -> Iterator[Site]:
    with site_running(app, tmp_path / "site", request) as running:
        yield running


def test_two_agents_probe_report_and_the_site_shows_their_results(site, app, smtp_target):
    check_id = add_check(app, "127.0.0.1", smtp_target.port, interval=2)
    site.start_web()
    site.start_runner()
    site.sign_in_as_admin()
    tokens = {name: site.add_location(name, network, [check_id]) for name, network in
              (("Lusaka", "MTN"), ("Frankfurt", "Hetzner"))}
    agents = [site.start_agent(name, token) for name, token in tokens.items()]
    timeline = Timeline()
    print()

    for agent in agents:  # each fetched its assignment: the one check
        wait_until(lambda: "probing 1 checks (1 new)" in agent.said(), message=f"{agent.name} fetching its checks")
    wait_until(lambda: all(taken(app, name) for name in tokens), message="a batch taken from each location")
    locations = [site_location_name(app), *tokens]  # the site's own runner is a location too
    results = timeline.saw(wait_until(lambda: seen_by_all(app, check_id, locations), message="each location's result"))
    for name in locations:
        assert results[name][0] == "OK" and results[name][1].startswith("SMTP ok"), results[name]

    status, page = site.get("admin/locations")
    assert status == 200
    for name, network in (("Lusaka", "MTN"), ("Frankfurt", "Hetzner")):
        row = page.split(f"{name} ({network})</a>", 1)[1].split("</tr>", 1)[0]
        assert "online" in row and "<time datetime=" in row and f"<td>{agent_version()}</td>" in row, row

    wait_until(lambda: (shown := timeline.saw(public_state(site))).everywhere == "OPERATIONAL"
               and shown.summary.startswith("Reachable from 3 of 3 locations."),
               message="the service shown up from every location on the public page and in /api/servers")

    smtp_target.stop()  # from every location now: a quorum fails
    outage = wait_until(lambda: (shown := timeline.saw(public_state(site))).everywhere == "OUTAGE" and shown,
                        message=lambda: f"the combined state OUTAGE; the locations saw {seen_by(app, check_id)}")
    assert outage.summary.startswith("Reachable from 0 of 3 locations."), outage
    assert "From Lusaka (MTN): could not connect" in outage.summary and "From Frankfurt (Hetzner)" in outage.summary
    failing = timeline.saw(wait_until(lambda: seen_by_all(app, check_id, locations, "CRITICAL"),
                                      message="each location seeing the target down"))
    assert all("refused" in failing[name][1] for name in locations), failing


def spool_left(agent) -> list[int]:
    """The numbers of the results still waiting in the agent's spool."""
    with sqlite3.connect(agent.spool) as conn:
        return [seq for (seq,) in conn.execute("SELECT seq FROM results ORDER BY seq")]


# One database is enough here: taking each batch once rests on the batch table's key, which the test above and the
# API's replay tests exercise on both; this one is about the agent keeping and replaying what it made.
@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_site_down_for_a_minute_loses_nothing_and_takes_every_result_once_in_order(site, app, smtp_target):
    check_id = add_check(app, "127.0.0.1", smtp_target.port, interval=1)
    site.start_web()
    site.start_runner()
    site.sign_in_as_admin()
    agent = site.start_agent("Lusaka", site.add_location("Lusaka", "MTN", [check_id]))
    timeline = Timeline()
    print()
    wait_until(lambda: len(agent.batches()) >= 3, message="the agent's first batches taken")

    site.stop_web()  # the runner stays up, as when only the web server is restarted
    made_before = len(agent.results())
    timeline.saw(f"web process stopped; the agent had made {made_before} results, the site took "
                 f"{sum(taken(app, 'Lusaka').values())}")
    time.sleep(OUTAGE_SECONDS)
    made_during = len(agent.results()) - made_before
    waiting = spool_left(agent)
    timeline.saw(f"after {OUTAGE_SECONDS} s down: {made_during} results made meanwhile, {len(waiting)} in the spool")
    assert made_during > 1 and len(waiting) >= made_during, "the agent goes on probing and keeps its results"
    assert "cannot reach the site" in agent.said()

    site.start_web()
    made_by_restart = len(agent.results())
    wait_until(lambda: agent.batches() and agent.batches()[-1][4] >= made_by_restart, REPLAY_PATIENCE,
               message="the results made while the site was down replayed")
    timeline.saw(f"web process back: {len(agent.batches())} batches taken in all")
    agent.stop()

    made = agent.results()
    batches = agent.batches()
    numbers = [number for number, *_ in made]
    assert numbers == list(range(1, len(made) + 1)), "the log names every result the spool numbered, in order"
    assert {check for _, check, _, _ in made} == {check_id}
    # The batches cover the results from the first on, each result in one batch, in the order made...
    assert batches[0][3] == 1
    for before, after in zip(batches, batches[1:]):
        assert after[3] == before[4] + 1, (before, after)
    assert all(count == last - first + 1 for _, _, count, first, last in batches)
    # ...and those not sent when the agent stopped still wait in its spool, after them.
    assert spool_left(agent) == list(range(batches[-1][4] + 1, len(made) + 1))
    # The site took each of those batches once, in that order, with the results the agent sent in it, and nothing
    # else (batches are sent one at a time: each was taken after the one before).
    assert list(taken(app, "Lusaka").items()) == [(batch_id, count) for batch_id, _, count, _, _ in batches]
    print(f"  {len(made)} results made, {sum(count for *_, count, _, _ in batches)} taken by the site in "
          f"{len(batches)} batches, {len(spool_left(agent))} left in the spool at the agent's stop")
