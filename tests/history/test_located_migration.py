"""Migration 0016: per-location history tables; a site without agents starts them with its checks' history so far."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, insert, inspect, select

from ninerstatus.extensions import db
from ninerstatus.history.located import location_samples
from ninerstatus.history.models import HistoryRollup, LocationDailyTally
from ninerstatus.history.raw import read_samples
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.rollup import Sample
from ninerstatus.probing import Status

from ..conftest import BACKENDS, dispose, make_test_app, migrate_to
from ..test_migration_check_secrets import required_values
from .conftest import at
from .test_packed_migration import old_checks

START = int(at("2026-03-01 22:00").timestamp())
TABLES = {"history_location_raw", "history_location_daily"}


@pytest.fixture(params=BACKENDS)
def old_app(request, fresh_database_url, tmp_path):
    """An app on a database of each backend at 0015, with two checks and a few hours of their history."""
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    migrate_to(app, "0015")
    with app.app_context():
        check_ids = old_checks(("check 0", "check 1"))
        # Across midnight, every status, with and without response times.
        record_samples((Sample(check_id, START + minute * 60 + n, Status(minute % 4),
                               None if minute % 4 == 2 else 1000 * minute, None, minute % 7 == 0)
                        for n, check_id in enumerate(check_ids) for minute in range(200)),
                       # As they came in: a late result would write the history revision, which 0015 has not.
                       now=at("2026-03-01 22:00"))
        db.session.commit()
    yield app
    dispose(app)


def site_location_id() -> int:
    with db.engine.connect() as conn:
        locations = MetaData()
        locations.reflect(conn, only=["locations"])
        table = locations.tables["locations"]
        return conn.scalar(select(table.c.id).where(table.c.is_site))


def test_a_site_without_agents_keeps_its_history_so_far_as_its_own_location(old_app):
    migrate_to(old_app)
    with old_app.app_context():
        site = site_location_id()
        samples = read_samples()
        assert len(samples) == 400
        for check_id in {sample.check_id for sample in samples}:
            assert location_samples(check_id, 0, START + 86400) == {
                site: [sample for sample in samples if sample.check_id == check_id]}
        daily = {(row.check_id, row.bucket_start): row.tally()
                 for row in db.session.scalars(select(HistoryRollup).where(HistoryRollup.width == 86400))}
        assert len(daily) == 4
        assert {(row.check_id, row.day_start): row.tally() for row in db.session.scalars(
            select(LocationDailyTally).where(LocationDailyTally.location_id == site))} == daily
        assert {row.location_id for row in db.session.scalars(select(LocationDailyTally))} == {site}


def test_a_site_with_agents_starts_its_per_location_history_empty(old_app):
    with old_app.app_context(), db.engine.begin() as conn:
        locations = MetaData()
        locations.reflect(conn, only=["locations"])
        table = locations.tables["locations"]
        conn.execute(insert(table), {**required_values(table, 1, {}), "name": "Lusaka", "is_site": False})
    migrate_to(old_app)
    with old_app.app_context():
        assert len(read_samples()) == 400
        assert db.session.scalars(select(LocationDailyTally)).all() == []
        assert location_samples(read_samples()[0].check_id, 0, START + 86400) == {}


def test_downgrade_drops_the_per_location_history_and_keeps_the_checks(old_app):
    migrate_to(old_app)
    with old_app.app_context():
        downgrade(revision="0015")
        assert not TABLES & set(inspect(db.engine).get_table_names())
        assert len(read_samples()) == 400
    migrate_to(old_app)
    with old_app.app_context():
        assert TABLES <= set(inspect(db.engine).get_table_names())
