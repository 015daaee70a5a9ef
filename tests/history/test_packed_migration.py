"""Migration 0014: every raw result stored one per row moves into the packed rows, and back on a downgrade."""
from __future__ import annotations

import random

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, func, insert, select

from ninerstatus.extensions import db
from ninerstatus.history.models import RawResults
from ninerstatus.history.raw import read_samples
from ninerstatus.history.rollup import Sample
from ninerstatus.probing import Status

from ..conftest import BACKENDS, dispose, make_test_app, migrate_to
from ..factories import make_server
from .conftest import add_check, at

BEFORE = "0010"
START = int(at("2026-03-01 22:00").timestamp())


@pytest.fixture(params=BACKENDS)
def old_app(request, fresh_database_url, tmp_path):
    """An app on a database of each backend at the revision before packed history."""
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    migrate_to(app, BEFORE)
    yield app
    dispose(app)


def old_rows(check_ids: list[int]) -> list[dict]:
    """Results of every kind over three hours (a day boundary among them), a few seconds apart at times."""
    rng = random.Random(14)
    rows = []
    for check_id in check_ids:
        moment = START + rng.randrange(0, 50)
        while moment < START + 3 * 3600:
            status = rng.choice(list(Status))
            rows.append({"check_id": check_id, "checked_at": moment, "status": int(status),
                         "latency_us": None if status is Status.CRITICAL else rng.randrange(0, 3_000_000),
                         "error_kind": rng.choice((None, "read_timeout", "tls_handshake", "its-own-kind")),
                         "in_maintenance": rng.random() < 0.1})
            moment += rng.choice((1, 7, 60, 61, 599))
    return rows


def test_the_upgrade_moves_every_result_and_the_downgrade_brings_them_back(old_app):
    with old_app.app_context():
        server = make_server("NC036")
        check_ids = [add_check(server, label).id for label in ("SMTP", "IMAP", "POP3")]
        rows = old_rows(check_ids)
        unreadable = {"check_id": check_ids[0], "checked_at": START + 2, "status": 9, "latency_us": 5,
                      "error_kind": None, "in_maintenance": False}
        results = MetaData()
        results.reflect(db.engine, only=["history_results"])
        with db.engine.begin() as conn:
            # Stored out of order, as rows of a table may come back in any order.
            conn.execute(insert(results.tables["history_results"]), rows[::-1] + [unreadable])
    migrate_to(old_app)
    expected = [Sample(row["check_id"], row["checked_at"], Status(row["status"]), row["latency_us"],
                       row["error_kind"], row["in_maintenance"]) for row in rows]
    with old_app.app_context():
        assert read_samples() == sorted(expected)
        # One packed row per check and hour.
        assert db.session.scalar(select(func.count()).select_from(RawResults)) == 3 * 3
        db.session.remove()
        downgrade(revision=BEFORE)
        results = MetaData()
        results.reflect(db.engine, only=["history_results"])
        table = results.tables["history_results"]
        back = [dict(row._mapping) for row in db.session.execute(select(table).order_by(
            table.c.check_id, table.c.checked_at))]
    assert back == sorted(rows, key=lambda row: (row["check_id"], row["checked_at"]))
