"""Rounds in batches: results written together yet refused alone, claims reused, probes booked ahead of their slots."""
from __future__ import annotations

import dataclasses
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select, text

from ninerstatus.agents.models import CheckLocation
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.raw import read_samples
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, ProbeResult, Status
from ninerstatus.runner import loop
from ninerstatus.runner.claims import Claim, ClaimMaker, claim_due
from ninerstatus.runner.lanes import Lane
from ninerstatus.runner.results import Outcome, record_results
from ninerstatus.timeutil import utcnow

from ..factories import make_server
from ..waiting import wait_until
from .conftest import START, add_check, reread, running


def stored(check: Check) -> Check:
    reread()
    return db.session.get(Check, check.id)


@contextmanager
def results_refused(check: Check, table: str = "checks", event: str = "UPDATE OF last_result",
                    key: str = "id") -> Iterator[None]:
    """The database refuses to store a result of ``check`` (a trigger raises on ``event`` of ``table``'s rows whose
    ``key`` is the check's id), and only of it."""
    if db.engine.dialect.name == "sqlite":
        create = [f"CREATE TRIGGER refuse_result BEFORE {event} ON {table} WHEN NEW.{key} = {check.id} "
                  "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"]
        drop = ["DROP TRIGGER refuse_result"]
    else:
        create = ["CREATE FUNCTION refuse_result() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; "
                  "END $$ LANGUAGE plpgsql",
                  f"CREATE TRIGGER refuse_result BEFORE {event} ON {table} FOR EACH ROW "
                  f"WHEN (NEW.{key} = {check.id}) EXECUTE FUNCTION refuse_result()"]
        drop = [f"DROP TRIGGER refuse_result ON {table}", "DROP FUNCTION refuse_result()"]
    for statement in create:
        db.session.execute(text(statement))
    db.session.commit()
    try:
        yield
    finally:
        reread()
        for statement in drop:
            db.session.execute(text(statement))
        db.session.commit()


def test_a_result_the_database_refuses_costs_its_own_check_only(probe_runner, clock, greeter, hook_calls, caplog):
    server = make_server()
    checks = [add_check(server, greeter.port) for _ in range(3)]
    with results_refused(checks[1]):
        assert probe_runner.run_due() == 3
        assert [stored(check).result is not None for check in checks] == [True, False, True]
        assert {check_id for check_id, _ in hook_calls.completed} == {checks[0].id, checks[2].id}
        assert {sample.check_id for sample in read_samples()} == {checks[0].id, checks[2].id}
        assert f"the result of check {checks[1].id} cannot be stored" in caplog.text
    # Its claim lapses before its next slot, and from then on it is recorded like the others.
    clock.advance(60)
    assert probe_runner.run_due() == 3
    assert stored(checks[1]).result.status is Status.OK and stored(checks[1]).lease_owner is None


def test_a_location_row_the_database_refuses_costs_its_own_check_only(probe_runner, clock, greeter, caplog):
    server = make_server()
    checks = [add_check(server, greeter.port) for _ in range(3)]
    # The site's runner adds its location's row of each check with the check's first result.
    with results_refused(checks[1], "check_locations", "INSERT", "check_id"):
        assert probe_runner.run_due() == 3
        assert [stored(check).result is not None for check in checks] == [True, False, True]
        assert {sample.check_id for sample in read_samples()} == {checks[0].id, checks[2].id}
        assert f"the result of check {checks[1].id} cannot be stored" in caplog.text
        assert sorted(db.session.scalars(select(CheckLocation.check_id))) == [checks[0].id, checks[2].id]
    clock.advance(60)
    assert probe_runner.run_due() == 3
    assert stored(checks[1]).result.status is Status.OK and stored(checks[1]).lease_owner is None


def test_a_recorded_result_gives_up_the_lease_only_if_its_runner_still_holds_it(ctx):
    server = make_server()
    held, taken = add_check(server, 25), add_check(server, 26)
    until = START + timedelta(minutes=5)
    for check, owner in ((held, "first"), (taken, "second")):
        check.lease_owner, check.lease_until = owner, until
    db.session.commit()
    outcomes = [Outcome(Claim(check.id, START, 10.0), ProbeResult(Status.OK, "220 ready", checked_at=START), False)
                for check in (held, taken)]
    record_results("first", outcomes, get_plugins(ctx), START)
    assert (stored(held).lease_owner, stored(held).lease_until) == (None, None)
    assert (stored(taken).lease_owner, stored(taken).lease_until) == ("second", until)
    assert stored(taken).result.status is Status.OK


def claim_one(maker: ClaimMaker, now) -> Claim:
    claimed, _ = claim_due("runner", now, {Lane.QUICK: 10, Lane.SLOW: 10}, 30, maker)
    [claim] = [claim for claims in claimed.values() for claim in claims]
    return claim


def test_a_claim_is_reused_while_its_check_is_unchanged_and_made_anew_once_it_is_edited(ctx):
    maker = ClaimMaker(get_plugins(ctx).check_types)
    check = add_check(make_server(), 2525, settings={"expect": "220"})
    first = claim_one(maker, START)
    again = claim_one(maker, START + timedelta(seconds=60))
    assert again.target is first.target and again.due == START + timedelta(seconds=60)

    check = stored(check)
    check.port, check.settings = 2526, {"expect": "OK"}
    db.session.commit()
    edited = claim_one(maker, START + timedelta(seconds=120))
    assert (edited.target.port, dict(edited.settings)) == (2526, {"expect": "OK"})

    check = stored(check)
    check.type_name = "gone"
    db.session.commit()
    gone = claim_one(maker, START + timedelta(seconds=180))
    assert gone.target is None and "'gone'" in gone.problem


def test_checks_with_equal_tls_policies_share_one_in_their_claims(ctx):
    maker = ClaimMaker(get_plugins(ctx).check_types)
    server = make_server()
    add_check(server, 2525)
    add_check(server, 2526)
    add_check(server, 2527, warn_days=30)
    claimed, _ = claim_due("runner", START, {Lane.QUICK: 10, Lane.SLOW: 10}, 30, maker)
    first, second, third = sorted((claim for claims in claimed.values() for claim in claims),
                                  key=lambda claim: claim.target.port)
    assert first.tls_policy is second.tls_policy
    assert third.tls_policy.warn_days == 30 and first.tls_policy.warn_days == 21


def test_a_probe_that_changes_its_settings_does_not_change_the_next_probes(ctx, greeter):
    maker = ClaimMaker(get_plugins(ctx).check_types)
    add_check(make_server(), greeter.port, settings={"expect": "220"})
    claim = claim_one(maker, START)
    seen = []

    def meddling_probe(target, settings, context):
        seen.append(dict(settings))
        settings["expect"] = "changed by the probe"
        return claim.check_type.probe(target, settings, context)

    meddler = dataclasses.replace(claim, check_type=dataclasses.replace(claim.check_type, probe=meddling_probe))
    assert meddler.run(utcnow).error_kind is ErrorKind.EXPECTATION_FAILED
    again = claim_one(maker, START + timedelta(seconds=60))
    assert dict(again.settings) == {"expect": "220"} == seen[0]


def test_a_check_claimed_ahead_of_its_slot_is_probed_at_its_slot_not_before(ctx, greeter):
    # Far enough ahead for the runner to start first, so that it books the probe rather than finding it due.
    due = utcnow() + timedelta(seconds=2)
    check = add_check(make_server(), greeter.port, due=due)
    with running(ctx):
        wait_until(lambda: stored(check).last_checked_at is not None)
    assert stored(check).last_checked_at >= due


def test_results_of_later_rounds_wait_to_be_recorded_together_and_none_is_left_behind(probe_runner, greeter,
                                                                                      monkeypatch):
    monkeypatch.setattr(loop, "RECORD_SECONDS", 3600.0)
    stopped = threading.Event()
    stopped.set()

    def rounds_until(condition) -> None:
        wait_until(lambda: probe_runner.tick(stopped) or condition())

    server = make_server()
    first = add_check(server, greeter.port)
    rounds_until(lambda: stored(first).last_checked_at is not None)   # the first results are recorded at once
    second = add_check(server, greeter.port)
    rounds_until(lambda: len(greeter.visits) == 2)
    wait_until(lambda: probe_runner.flights.next_deadline() == math.inf)  # its probe has ended
    probe_runner.tick(stopped)
    assert stored(second).last_checked_at is None                     # probed, kept for the next recording
    probe_runner.run_due()                                             # which waiting for every probe makes now
    assert stored(second).last_checked_at is not None
