"""Claims: each check is probed once per slot, however many runners share the database."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins
from ninerstatus.runner import loop
from ninerstatus.runner.claims import ClaimMaker, claim_due
from ninerstatus.runner.lanes import Lane
from ninerstatus.runner.models import RunnerHeartbeat

from ..factories import make_server
from ..waiting import wait_until
from .conftest import START, add_check, reread, running
from .services import GreetingServer


def claim(owner: str, now, limit: int = 10) -> list[int]:
    claimed, _ = claim_due(owner, now, {Lane.QUICK: limit, Lane.SLOW: limit}, 30, ClaimMaker(get_plugins().check_types))
    return [c.check_id for claims in claimed.values() for c in claims]


def test_a_claimed_check_is_not_claimed_again_in_its_slot(ctx):
    check = add_check(make_server(), 2525)
    assert claim("first", START) == [check.id]
    assert claim("second", START) == []
    assert claim("second", START + timedelta(seconds=59)) == []
    reread()
    stored = db.session.get(Check, check.id)
    assert (stored.lease_owner, stored.next_due_at) == ("first", START + timedelta(seconds=60))


def test_a_dead_runners_lease_holds_its_checks_only_until_it_lapses(ctx):
    # Due every 10 s; a claim holds for the 1 s timeout + 0.5 s grace + 30 s lease.
    check = add_check(make_server(), 2525, interval_seconds=10)
    assert claim("dies", START) == [check.id]
    assert claim("lives", START + timedelta(seconds=20)) == []
    assert claim("lives", START + timedelta(seconds=31.5)) == [check.id]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_on_postgresql_a_claim_skips_rows_another_runner_is_claiming_instead_of_waiting(ctx):
    server = make_server()
    held, free = add_check(server, 2525), add_check(server, 2526)
    claimed = []

    def claim_beside() -> None:
        with ctx.app_context():
            claimed.append(claim("runner", START))

    with db.engine.connect() as other:
        other.execute(text("SELECT id FROM checks WHERE id = :id FOR UPDATE"), {"id": held.id})
        claiming = threading.Thread(target=claim_beside)
        claiming.start()
        try:
            # Waiting for the held row would last as long as this test holds it.
            wait_until(lambda: claimed, message="the claim waits for the row another runner is claiming")
        finally:
            other.rollback()
            claiming.join()
    assert claimed == [[free.id]]
    assert claim("runner", START) == [held.id]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_runners_on_postgresql_never_probe_a_check_twice_in_one_interval(ctx, monkeypatch):
    servers = [GreetingServer(delay=0.2) for _ in range(6)]
    claimed_by: dict[str, int] = {}
    slots: list[tuple[int, datetime]] = []
    real_claim_due = loop.claim_due

    def counting_claim_due(owner, *args, **kwargs):
        claimed, earliest = real_claim_due(owner, *args, **kwargs)
        claimed_by[owner] = claimed_by.get(owner, 0) + sum(len(claims) for claims in claimed.values())
        slots.extend((claim.check_id, claim.due) for claims in claimed.values() for claim in claims)
        return claimed, earliest

    monkeypatch.setattr(loop, "claim_due", counting_claim_due)
    try:
        host = make_server()
        for server in servers:
            add_check(host, server.port, due=None, interval_seconds=1)
        with running(ctx, owners=("left", "right")):
            wait_until(lambda: all(len(server.visits) >= 3 for server in servers)
                       and claimed_by.get("left", 0) > 0 and claimed_by.get("right", 0) > 0)

        assert len(slots) == len(set(slots))   # each check claimed once per slot at most, by either runner
        reread()
        assert db.session.scalars(db.select(Check.lease_owner).where(Check.lease_owner.is_not(None))).all() == []
        assert db.session.scalars(db.select(RunnerHeartbeat)).all() == []
    finally:
        for server in servers:
            server.close()
