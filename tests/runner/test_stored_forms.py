"""The runner writes a check's result and times as the ORM does: the same stored text, read back the same.

The runner binds a result it has encoded once (``EncodedJSON``) and its
times through SQLite's text in one step (``UTCDateTime``), and sends its
rows to the database driver itself (``driver_rows``); a row written so must
not differ from one the ORM writes, on either database.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select, text

from ninerstatus.agents.locations import site_location
from ninerstatus.agents.models import CheckLocation
from ninerstatus.checks.models import Check
from ninerstatus.columns import EncodedJSON, encoded_json
from ninerstatus.driver_rows import driver_statement
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ProbeResult, Status
from ninerstatus.runner.claims import Claim
from ninerstatus.runner.results import Outcome, record_results
from ninerstatus.timeutil import utcnow

from ..factories import make_server
from .conftest import add_check, reread

RESULT = {"status": "ok", "summary": "Zürich — réponse ✓ \"quoted\" \\ back", "elapsed": 0.1 + 0.2,
          "phases": {"connect": 1e-7, "banner": 12.5}, "tls": None, "sans": ["a.example", "b.example"],
          "count": 3, "flag": True}
TIMES = [datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc),
         datetime(2026, 3, 29, 3, 30, 5, 7, tzinfo=timezone(timedelta(hours=2))),
         datetime(999, 1, 1, 0, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-5)))]

_RAW = text("SELECT CAST(last_result AS TEXT), CAST(last_checked_at AS TEXT) FROM checks WHERE id = :id")
_RAW_ROW = {table: text(f"SELECT CAST(last_result AS TEXT), CAST(last_checked_at AS TEXT), CAST(state_since AS TEXT), "
                        f"state FROM {table} WHERE {key} = :id")
            for table, key in (("checks", "id"), ("check_locations", "check_id"))}
_CHECKS = Check.__table__
_BY_RUNNER = _CHECKS.update().where(_CHECKS.c.id == bindparam("check_id")).values(
    last_result=bindparam("result", type_=EncodedJSON()),
    last_checked_at=bindparam("checked_at", type_=_CHECKS.c.last_checked_at.type))


@pytest.mark.parametrize("moment", TIMES)
def test_runner_statement_stores_what_the_orm_stores(ctx, moment):
    server = make_server()
    by_orm = add_check(server, 25, last_result=RESULT, last_checked_at=moment)
    by_runner = add_check(server, 26)
    written = utcnow()
    connection = db.session.connection()
    driver_statement(_BY_RUNNER, connection.dialect).execute(
        connection, [{"check_id": by_runner.id, "result": encoded_json(RESULT), "checked_at": moment}])
    db.session.commit()
    reread()

    raw_orm = db.session.execute(_RAW, {"id": by_orm.id}).one()
    assert db.session.execute(_RAW, {"id": by_runner.id}).one() == raw_orm
    assert raw_orm[0] == encoded_json(RESULT)
    read = db.session.execute(select(Check.last_result, Check.last_checked_at, Check.updated_at)
                              .where(Check.id == by_runner.id)).one()
    assert read[:2] == (RESULT, moment)
    assert read[1].tzinfo is timezone.utc
    # The column's own default on update is filled in, as the ORM fills it.
    assert read[2] >= written and read[2].tzinfo is timezone.utc


def recorded(check: Check, result: ProbeResult) -> None:
    """The site's runner records ``result`` of ``check``."""
    outcome = Outcome(Claim(check.id, result.checked_at, 10.0), result, False)
    record_results("test-runner", [outcome], get_plugins(), result.checked_at)


@pytest.mark.parametrize("moment", TIMES)
def test_rows_the_runner_records_read_back_as_the_orm_writes_them(ctx, moment):
    server = make_server()
    by_runner = add_check(server, 26)
    first = ProbeResult(Status.OK, RESULT["summary"], details={"banner": "220 mx ✓", "sans": ["a", "b"]},
                        checked_at=moment)
    second = ProbeResult(Status.OK, "220 again", metrics={"elapsed": 0.1 + 0.2},
                         checked_at=moment + timedelta(minutes=1))
    recorded(by_runner, first)    # its location's row added
    recorded(by_runner, second)   # and written again
    reread()

    check = db.session.get(Check, by_runner.id)
    [located] = db.session.scalars(select(CheckLocation).where(CheckLocation.check_id == by_runner.id))
    stored = json.loads(encoded_json(second.to_dict()))
    for row in (check, located):
        assert (row.last_result, row.last_checked_at, row.state_since, row.state) == (stored, second.checked_at,
                                                                                        first.checked_at, "ok")
        assert row.last_checked_at.tzinfo is row.state_since.tzinfo is timezone.utc
    # The same values written through the ORM are stored as the same text.
    by_orm = add_check(server, 25, last_result=stored, last_checked_at=second.checked_at,
                       state_since=first.checked_at, state="ok")
    db.session.add(CheckLocation(check_id=by_orm.id, location_id=site_location().id, last_result=stored,
                                 last_checked_at=second.checked_at, state_since=first.checked_at, state="ok"))
    db.session.commit()
    for raw in _RAW_ROW.values():
        assert db.session.execute(raw, {"id": by_runner.id}).one() == db.session.execute(raw, {"id": by_orm.id}).one()


def test_a_naive_time_is_still_refused(ctx):
    check = add_check(make_server(), 25)
    checks = Check.__table__
    with pytest.raises(Exception, match="naive datetime"):
        db.session.execute(checks.update().where(checks.c.id == check.id).values(
            last_checked_at=datetime(2026, 3, 2, 12, 0)))
