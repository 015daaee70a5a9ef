"""Check settings: passwords stored in clear are encrypted under the site's secret key.

Until now a check's settings, test account passwords included, were kept in
clear in the checks table. From now on every secret setting is kept as
``{"fernet": TOKEN}`` (see ninerstatus/checks/secrets.py). This encrypts the
secrets already stored: the ``password`` setting of every check (the name
every bundled type gives its one secret), and the settings a loaded plugin
declares secret. A secret a plugin not loaded now declares is encrypted on
its check's next save; until then it still reads.

Downgrading decrypts them again, so an older release reads them; a token no
key of the site opens is left as it is (that release will report the check).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from ninerstatus.checks.secrets import is_sealed, readable_settings, seal_settings, site_cipher

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: The secret setting of every bundled check type that has one (IMAP, POP3, FTP).
BUNDLED_SECRETS = frozenset({"password"})

checks = sa.table("checks", sa.column("id", sa.Integer()), sa.column("type_name", sa.String()),
                  sa.column("settings", sa.JSON()))


def _secret_names() -> dict[str, frozenset[str]]:
    """The secret settings of each loaded check type, by type name."""
    from ninerstatus.plugins import get_plugins

    return {name: check_type.secret_names for name, check_type in get_plugins(current_app).check_types.items()}


def _rows(conn):
    """(id, type name, settings) of every check whose settings are named values.

    A row whose settings are anything else is left as it is: the runner
    reports it, and guessing at it here would only hide it.
    """
    rows = conn.execute(sa.select(checks.c.id, checks.c.type_name, checks.c.settings)).all()
    return [(row.id, row.type_name, row.settings) for row in rows if isinstance(row.settings, dict)]


def _store(conn, check_id, settings):
    conn.execute(sa.update(checks).where(checks.c.id == check_id).values(settings=settings))


def upgrade():
    conn = op.get_bind()
    cipher, declared = site_cipher(), _secret_names()
    for check_id, type_name, settings in _rows(conn):
        names = BUNDLED_SECRETS | declared.get(type_name, frozenset())
        sealed = seal_settings(settings, names, cipher)
        if sealed != settings:
            _store(conn, check_id, sealed)


def downgrade():
    conn = op.get_bind()
    cipher = site_cipher()
    for check_id, _, settings in _rows(conn):
        if not any(is_sealed(value) for value in settings.values()):
            continue
        # A token no key opens is left as it is, for the older release to report.
        opened, _ = readable_settings(settings, cipher)
        _store(conn, check_id, {name: opened.get(name, value) for name, value in settings.items()})
