"""Migration 0010 encrypts the passwords older releases stored in clear, and its downgrade decrypts them."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, insert, select

from ninerstatus.checks.secrets import SEALED_KEY, open_settings, site_cipher
from ninerstatus.extensions import db

from .conftest import BACKENDS, dispose, make_test_app, migrate_to
from .test_migrations import _sample_value

BEFORE = "0010-1"
#: Settings as an older release stored them, by label: the password in clear.
OLD_SETTINGS = {
    "imap": ("imap", {"username": "alice", "password": "c0rrect horse"}),
    "ftp-anonymous": ("ftp", {"username": "anonymous", "password": ""}),
    "http": ("http", {"path": "/", "password_hint": "not a secret"}),
    "banner": ("banner", {"expect": "220", "secret": "plugin secret"}),  # a local plugin's PasswordField
    "gone": ("retired", {"password": "of a plugin no longer loaded"}),
    "list": ("imap", ["not", "named", "values"]),
}


@pytest.fixture(params=BACKENDS)
def old_app(request, fresh_database_url, tmp_path):
    """An app on a new database of each backend, migrated to the revision before 0010, with the test plugin."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "banner.py").symlink_to(Path(__file__).parent / "local_plugins" / "banner.py")
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    migrate_to(app, BEFORE)
    yield app
    dispose(app)


def required_values(table, row: int, parents: dict[str, list[int]]) -> dict:
    """A value for each column of ``table`` that needs one (no NULL, no default)."""
    return {c.name: _sample_value(c, row, parents) for c in table.columns
            if not c.primary_key and not c.nullable and c.server_default is None}


def add_old_checks(app) -> None:
    """A server and one check per entry of OLD_SETTINGS, written as the old schema has them."""
    with app.app_context(), db.engine.begin() as conn:
        old = MetaData()
        old.reflect(conn, only=["servers", "checks"])
        servers, checks = old.tables["servers"], old.tables["checks"]
        conn.execute(insert(servers), required_values(servers, 0, {}))
        parents = {"servers": list(conn.scalars(select(servers.c.id)))}
        for n, (label, (type_name, settings)) in enumerate(OLD_SETTINGS.items()):
            row = required_values(checks, n, parents)
            conn.execute(insert(checks), {**row, "label": label, "type_name": type_name, "settings": settings})


def stored(app) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        checks = MetaData()
        checks.reflect(conn, only=["checks"])
        table = checks.tables["checks"]
        return dict(conn.execute(select(table.c.label, table.c.settings)).all())


def test_upgrade_encrypts_clear_passwords_and_downgrade_decrypts_them(old_app):
    add_old_checks(old_app)
    migrate_to(old_app, "0010")
    after = stored(old_app)
    assert set(after["imap"]["password"]) == {SEALED_KEY}
    assert set(after["banner"]["secret"]) == {SEALED_KEY}
    assert set(after["gone"]["password"]) == {SEALED_KEY}  # "password" is secret whatever the type
    assert after["ftp-anonymous"] == OLD_SETTINGS["ftp-anonymous"][1]  # nothing to hide in an empty one
    assert after["http"] == OLD_SETTINGS["http"][1]
    assert after["list"] == OLD_SETTINGS["list"][1]  # left for the runner to report
    with old_app.app_context():
        opened = {label: open_settings(settings, site_cipher()) for label, settings in after.items()
                  if isinstance(settings, dict)}
    assert opened == {label: settings for label, (_, settings) in OLD_SETTINGS.items() if isinstance(settings, dict)}
    with old_app.app_context():
        downgrade(revision=BEFORE)
    assert stored(old_app) == {label: settings for label, (_, settings) in OLD_SETTINGS.items()}
