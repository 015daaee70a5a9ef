"""The runner writes a check's result and times as the ORM does: the same stored text, read back the same.

The runner binds a result it has encoded once (``EncodedJSON``) and its
times through SQLite's text in one step (``UTCDateTime``); a row written so
must not differ from one the ORM writes, on either database.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select, text

from ninerstatus.checks.models import Check
from ninerstatus.columns import EncodedJSON, encoded_json
from ninerstatus.extensions import db

from ..factories import make_server
from .conftest import add_check, reread

RESULT = {"status": "ok", "summary": "Zürich — réponse ✓ \"quoted\" \\ back", "elapsed": 0.1 + 0.2,
          "phases": {"connect": 1e-7, "banner": 12.5}, "tls": None, "sans": ["a.example", "b.example"],
          "count": 3, "flag": True}
TIMES = [datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc),
         datetime(2026, 3, 29, 3, 30, 5, 7, tzinfo=timezone(timedelta(hours=2))),
         datetime(999, 1, 1, 0, 0, 0, 999999, tzinfo=timezone(timedelta(hours=-5)))]

_RAW = text("SELECT CAST(last_result AS TEXT), CAST(last_checked_at AS TEXT) FROM checks WHERE id = :id")


@pytest.mark.parametrize("moment", TIMES)
def test_runner_statement_stores_what_the_orm_stores(ctx, moment):
    server = make_server()
    by_orm = add_check(server, 25, last_result=RESULT, last_checked_at=moment)
    by_runner = add_check(server, 26)
    checks = Check.__table__
    db.session.execute(checks.update().where(checks.c.id == bindparam("check_id")).values(
        last_result=bindparam("result", type_=EncodedJSON()),
        last_checked_at=bindparam("checked_at", type_=checks.c.last_checked_at.type)),
        [{"check_id": by_runner.id, "result": encoded_json(RESULT), "checked_at": moment}])
    db.session.commit()
    reread()

    raw_orm = db.session.execute(_RAW, {"id": by_orm.id}).one()
    assert db.session.execute(_RAW, {"id": by_runner.id}).one() == raw_orm
    assert raw_orm[0] == encoded_json(RESULT)
    read = db.session.execute(select(Check.last_result, Check.last_checked_at).where(Check.id == by_runner.id)).one()
    assert read == (RESULT, moment)
    assert read[1].tzinfo is timezone.utc


def test_a_naive_time_is_still_refused(ctx):
    check = add_check(make_server(), 25)
    checks = Check.__table__
    with pytest.raises(Exception, match="naive datetime"):
        db.session.execute(checks.update().where(checks.c.id == check.id).values(
            last_checked_at=datetime(2026, 3, 2, 12, 0)))
