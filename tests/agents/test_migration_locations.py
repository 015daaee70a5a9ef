"""Migration 0015 moves a site's checks to one location named after the site, keeping each check's state."""
from __future__ import annotations

from datetime import datetime

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, insert, inspect, select, update

from ninerstatus.extensions import db

from ..conftest import BACKENDS, dispose, make_test_app, migrate_to
from ..test_migration_check_secrets import required_values

SINCE = datetime(2026, 11, 30, 8, 15)


@pytest.fixture(params=BACKENDS)
def old_app(request, fresh_database_url, tmp_path):
    """An app on a new database of each backend, at the revision before 0015, with two checks."""
    app = make_test_app(fresh_database_url(request.param), tmp_path, SITE_NAME="Niner Status")
    migrate_to(app, "0015-1")
    with app.app_context(), db.engine.begin() as conn:
        old = MetaData()
        old.reflect(conn, only=["servers", "checks"])
        servers, checks = old.tables["servers"], old.tables["checks"]
        conn.execute(insert(servers), required_values(servers, 0, {}))
        parents = {"servers": list(conn.scalars(select(servers.c.id)))}
        for n in range(2):
            conn.execute(insert(checks), {**required_values(checks, n, parents), "label": f"check {n}"})
        conn.execute(update(checks).where(checks.c.label == "check 1").values(
            state="critical", state_since=SINCE, consecutive_failures=4, consecutive_successes=0,
            last_result={"status": 2, "summary": "refused"}, last_checked_at=SINCE))
    yield app
    dispose(app)


def _rows(app, table: str) -> list[dict]:
    with app.app_context(), db.engine.connect() as conn:
        meta = MetaData()
        meta.reflect(conn, only=[table])
        return [dict(row._mapping) for row in conn.execute(select(meta.tables[table]))]


def test_every_check_is_probed_from_the_site_location_with_the_state_it_had(old_app):
    migrate_to(old_app, "0015")
    locations = _rows(old_app, "locations")
    assert [(row["name"], bool(row["is_site"]), row["token_hash"]) for row in locations] == [
        ("Niner Status", True, None)]
    assigned = {row["check_id"]: row for row in _rows(old_app, "check_locations")}
    checks = {row["label"]: row for row in _rows(old_app, "checks")}
    assert set(assigned) == {row["id"] for row in checks.values()}
    moved = assigned[checks["check 1"]["id"]]
    assert (moved["state"], moved["state_since"], moved["consecutive_failures"]) == ("critical", SINCE, 4)
    assert moved["last_result"] == {"status": 2, "summary": "refused"}
    assert moved["location_id"] == locations[0]["id"]
    assert all(row["quorum"] is None for row in checks.values())


def test_downgrade_removes_the_locations_and_keeps_the_checks(old_app):
    migrate_to(old_app, "0015")
    with old_app.app_context():
        downgrade(revision="0015-1")
        tables = set(inspect(db.engine).get_table_names())
    assert not tables & {"locations", "check_locations", "agent_batches"}
    assert sorted(row["label"] for row in _rows(old_app, "checks")) == ["check 0", "check 1"]
