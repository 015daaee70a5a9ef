"""Shared fixtures, after Flask's tutorial: ``app``, ``client``, ``runner``.

Every test that takes ``app`` runs twice, once on SQLite and once on
PostgreSQL. Each backend is migrated once per run through the real migrations;
SQLite tests then get a copy of the migrated file and PostgreSQL tests share one
database per run that is emptied after each test.
"""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from ninerstatus import create_app
from ninerstatus.extensions import db

from . import processes
from .pgserver import create_database, drop_database, postgres_admin_url

BACKENDS = ["sqlite", "postgresql"]


def make_test_app(database_url: str, instance_path: Path, **overrides):
    """Build an app for tests on ``database_url`` with its own instance folder."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "DATABASE_URL": database_url,
        "SERVER_NAME": "status.test",
        # Never pick up local plugin files from the developer's own instance folder.
        "PLUGINS_FOLDER": str(Path(instance_path) / "plugins"),
        # Tests change the database between two requests and expect to see it at once;
        # tests/test_pagecache.py and tests/test_sidebar_cache.py turn the caches on where they are the subject.
        "PAGE_CACHE_SECONDS": 0,
        "SIDEBAR_CACHE_SECONDS": 0,
        **overrides,
    }
    app = create_app(config)
    app.instance_path = str(instance_path)
    return app


def migrate_to(app, revision: str = "head") -> None:
    """Run the real migrations on ``app``'s database up to ``revision``."""
    with app.app_context():
        upgrade(revision=revision)


def dispose(app) -> None:
    """Close every pooled connection of ``app`` so databases can be dropped."""
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def no_program_outlives_the_run():
    """Every program a test started is gone at the end of the run, even after a failure or a timeout."""
    yield
    processes.kill_all()


@pytest.fixture(scope="session")
def postgres_admin():
    """The admin URL of the PostgreSQL server for this run (found or started)."""
    with postgres_admin_url() as url:
        yield url


@pytest.fixture
def fresh_database_url(request, tmp_path):
    """A factory of empty databases on the backend named by the test's ``backend`` parameter."""
    created: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'fresh-{uuid.uuid4().hex[:8]}.sqlite'}"
        admin = request.getfixturevalue("postgres_admin")
        name = f"ninerstatus_test_{uuid.uuid4().hex[:12]}"
        created.append(name)
        return create_database(admin, name)

    yield make
    for name in created:
        drop_database(request.getfixturevalue("postgres_admin"), name)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once per run, copied for each test."""
    folder = tmp_path_factory.mktemp("sqlite-template")
    path = folder / "template.sqlite"
    app = make_test_app(f"sqlite:///{path}", folder)
    migrate_to(app)
    dispose(app)
    return path


@pytest.fixture(scope="session")
def migrated_postgres(postgres_admin):
    """A PostgreSQL database of this run, migrated to head once."""
    name = f"ninerstatus_test_{uuid.uuid4().hex[:12]}"
    url = create_database(postgres_admin, name)
    app = make_test_app(url, Path("/tmp"))
    migrate_to(app)
    dispose(app)
    yield url
    drop_database(postgres_admin, name)


def _empty_postgres(app) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """The database backend of this run of the test: sqlite or postgresql."""
    return request.param


@pytest.fixture
def app_config() -> dict:
    """Extra settings for ``app``; override this fixture in a test module to change them."""
    return {}


@pytest.fixture
def app(backend, request, tmp_path, app_config):
    """The application on a migrated, empty database of the current backend."""
    if backend == "sqlite":
        path = tmp_path / "ninerstatus.sqlite"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        app = make_test_app(f"sqlite:///{path}", tmp_path, **app_config)
    else:
        app = make_test_app(request.getfixturevalue("migrated_postgres"), tmp_path, **app_config)
    yield app
    if backend == "postgresql":
        _empty_postgres(app)
    dispose(app)


@pytest.fixture
def client(app):
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner of ``app``'s commands."""
    return app.test_cli_runner()
