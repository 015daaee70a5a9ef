"""The migrations are the schema: they build it from nothing, keep data, and match the models."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade
from sqlalchemy import (JSON, Boolean, Column, DateTime, Float, Integer, LargeBinary, MetaData, String, Table, Text, inspect,
                        insert, select)

from ninerstatus.extensions import db
from ninerstatus.history.raw import unpack_rows
from ninerstatus.history.rollup import Sample

from .conftest import BACKENDS, dispose, make_test_app, migrate_to


def _revisions(app) -> list[str]:
    """All revisions from the first to head."""
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
        return [rev.revision for rev in reversed(list(script.walk_revisions()))]


@pytest.fixture(params=BACKENDS)
def empty_app(request, fresh_database_url, tmp_path):
    """An app on a brand-new, empty database of each backend."""
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    yield app
    dispose(app)


def test_upgrade_builds_every_table_from_an_empty_database(empty_app):
    migrate_to(empty_app)
    with empty_app.app_context():
        tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_models_and_migrations_describe_the_same_schema(empty_app):
    migrate_to(empty_app)
    with empty_app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_downgrade_to_base_and_upgrade_again(empty_app):
    migrate_to(empty_app)
    with empty_app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    migrate_to(empty_app)


def _sample_value(column, row: int, parents: dict[str, list[int]]):
    """A value of the right type for ``column`` in row ``row``, foreign keys pointing at real rows."""
    for fk in column.foreign_keys:
        return parents[fk.column.table.name][row % len(parents[fk.column.table.name])]
    kind = column.type
    if isinstance(kind, LargeBinary):
        return bytes([row, 0, 255])
    if isinstance(kind, JSON):
        return {"row": row, "text": "é"}
    if isinstance(kind, Float):
        return row + 0.5
    if isinstance(kind, Boolean):
        return row % 2 == 0
    if isinstance(kind, Integer):
        return row + 1
    if isinstance(kind, DateTime):
        return datetime(2018, 8, 18, 1, 11, row)
    if isinstance(kind, (String, Text)):
        length = getattr(kind, "length", None) or 40
        return f"{column.name}-{row}-é"[:length]
    raise AssertionError(f"no sample value for {column.table.name}.{column.name} of type {kind!r}")


def _packed_results(conn, metadata: MetaData) -> tuple[Table, list[dict]]:
    """history_results' rows, packed into history_raw by migration 0014 (see tests/history/test_packed_migration.py)."""
    old = Table("history_results", MetaData(), *(Column(name, Integer()) for name in Sample._fields))
    raw = metadata.tables["history_raw"]
    samples = unpack_rows(conn.execute(select(raw.c.check_id, raw.c.hour_start, raw.c.results)))
    return old, [{**sample._asdict(), "status": int(sample.status)} for sample in samples]


#: Tables a migration replaced, with where their rows went: (a table with the old columns, the rows read back).
MOVED = {"history_results": _packed_results}


def test_upgrade_from_the_previous_revision_keeps_existing_data(empty_app):
    """Fill every table of the revision before head, upgrade, and find every value again."""
    revisions = _revisions(empty_app)
    assert len(revisions) >= 2, "needs at least two revisions"
    migrate_to(empty_app, revisions[-2])
    written: dict[str, list[dict]] = {}
    with empty_app.app_context(), db.engine.begin() as conn:
        old = MetaData()
        old.reflect(conn)
        parents: dict[str, list[int]] = {}
        for table in old.sorted_tables:
            if table.name == "alembic_version":
                continue
            rows = []
            # A table's own integer id is left to the database; parts of a composite key are given.
            surrogate = len(table.primary_key.columns) == 1
            for n in range(3):
                rows.append({c.name: _sample_value(c, n, parents) for c in table.columns
                             if not (surrogate and c.primary_key and isinstance(c.type, Integer)
                                     and not c.foreign_keys)})
            # Rows of link tables must be unique pairs.
            if all(c.primary_key for c in table.columns):
                rows = [dict(r) for r in {tuple(sorted(r.items())) for r in rows}]
            conn.execute(insert(table), rows)
            written[table.name] = rows
            if "id" in table.columns:
                parents[table.name] = list(conn.scalars(select(table.c.id)))
    migrate_to(empty_app)
    with empty_app.app_context(), db.engine.connect() as conn:
        new = MetaData()
        new.reflect(conn)
        for name, rows in written.items():
            if name in MOVED:
                table, kept = MOVED[name](conn, new)
            else:
                table = new.tables[name]
                kept = [dict(r._mapping) for r in conn.execute(select(table))]
            for row in rows:
                assert any(all(k.get(col) == val for col, val in row.items() if col in table.columns)
                           for k in kept), f"{name}: row {row} lost in the upgrade"


def test_sqlite_database_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    app = make_test_app(f"sqlite:///{tmp_path / 'wal.sqlite'}", tmp_path, SQLITE_BUSY_TIMEOUT_MS=4321)
    migrate_to(app)
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    dispose(app)
    assert Path(tmp_path / "wal.sqlite-wal").exists() or Path(tmp_path / "wal.sqlite").exists()
