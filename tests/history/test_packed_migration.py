"""Migration 0014: every raw result and every 5-minute and hourly bucket stored one per row moves into the packed
rows, and back on a downgrade."""
from __future__ import annotations

import random

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, func, insert, select

from ninerstatus.extensions import db
from ninerstatus.history.models import RawResults, TallyBlock
from ninerstatus.history.raw import read_samples
from ninerstatus.history.recorder import rollup_rows
from ninerstatus.history.rollup import Sample, Tally
from ninerstatus.probing import Status

from ..conftest import BACKENDS, dispose, make_test_app, migrate_to
from ..test_migration_check_secrets import required_values
from .conftest import at, stored_tallies

BEFORE = "0014-1"
BUCKET_COLUMNS = ("check_id", "width", "bucket_start", *Tally._fields)
START = int(at("2026-03-01 22:00").timestamp())


@pytest.fixture(params=BACKENDS)
def old_app(request, fresh_database_url, tmp_path):
    """An app on a database of each backend at the revision before packed history."""
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    migrate_to(app, BEFORE)
    yield app
    dispose(app)


def old_checks(labels: tuple[str, ...]) -> list[int]:
    """A server with a check for each label, written as the schema before 0014 has them; their ids."""
    with db.engine.begin() as conn:
        old = MetaData()
        old.reflect(conn, only=["servers", "checks"])
        servers, checks = old.tables["servers"], old.tables["checks"]
        conn.execute(insert(servers), required_values(servers, 0, {}))
        parents = {"servers": list(conn.scalars(select(servers.c.id)))}
        for n, label in enumerate(labels):
            conn.execute(insert(checks), {**required_values(checks, n, parents), "label": label})
        return list(conn.scalars(select(checks.c.id).order_by(checks.c.id)))


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
        check_ids = old_checks(("SMTP", "IMAP", "POP3"))
        rows = old_rows(check_ids)
        unreadable = {"check_id": check_ids[0], "checked_at": START + 2, "status": 9, "latency_us": 5,
                      "error_kind": None, "in_maintenance": False}
        expected = [Sample(row["check_id"], row["checked_at"], Status(row["status"]), row["latency_us"],
                           row["error_kind"], row["in_maintenance"]) for row in rows]
        buckets = [dict(zip(BUCKET_COLUMNS, row)) for row in rollup_rows(expected)]
        spoiled = {**buckets[0], "bucket_start": buckets[0]["bucket_start"] - 300, "histogram": b"\x05\x80"}
        old = MetaData()
        old.reflect(db.engine, only=["history_results", "history_rollups"])
        with db.engine.begin() as conn:
            # Stored out of order, as rows of a table may come back in any order.
            conn.execute(insert(old.tables["history_results"]), rows[::-1] + [unreadable])
            conn.execute(insert(old.tables["history_rollups"]), buckets[::-1] + [spoiled])
    migrate_to(old_app)
    with old_app.app_context():
        assert read_samples() == sorted(expected)
        # One packed row per check and hour.
        assert db.session.scalar(select(func.count()).select_from(RawResults)) == 3 * 3
        for width in (300, 3600, 86400):
            assert stored_tallies(width) == sorted((row["check_id"], row["bucket_start"], Tally(
                *(row[name] for name in Tally._fields))) for row in buckets if row["width"] == width), width
        # Rows: 5-minute buckets by check and hour, hourly ones by check and day (the results span two days).
        assert db.session.scalar(select(func.count()).select_from(TallyBlock)) == 3 * 3 + 3 * 2
        db.session.remove()
        downgrade(revision=BEFORE)
        old = MetaData()
        old.reflect(db.engine, only=["history_results", "history_rollups"])
        results, rollups = old.tables["history_results"], old.tables["history_rollups"]
        back = [dict(row._mapping) for row in db.session.execute(select(results).order_by(
            results.c.check_id, results.c.checked_at))]
        back_buckets = [dict(row._mapping) for row in db.session.execute(select(rollups).order_by(
            rollups.c.check_id, rollups.c.width, rollups.c.bucket_start))]
    assert back == sorted(rows, key=lambda row: (row["check_id"], row["checked_at"]))
    assert back_buckets == sorted(buckets, key=lambda row: (row["check_id"], row["width"], row["bucket_start"]))
