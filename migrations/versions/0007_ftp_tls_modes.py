"""FTP checks: the TLS mode alone says how the session is secured; the auth_tls setting is gone.

Until now an FTP check on a plain port was stored with TLS mode "none" and
its auth_tls setting decided: "optional" used AUTH TLS when offered and logged
in over plaintext otherwise, "required" insisted on it, "off" never tried it.
Now "none" means plaintext, "starttls" means AUTH TLS and nothing less, and
port 21 uses it by default. Every stored FTP check gets the mode that keeps
what it did, except that "optional" becomes required: a check that would
have sent its password in the clear when AUTH TLS went missing now reports
AUTH TLS missing instead.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

checks = sa.table("checks", sa.column("id", sa.Integer()), sa.column("type_name", sa.String()),
                  sa.column("tls_mode", sa.String()), sa.column("settings", sa.JSON()))


def _ftp_checks(conn):
    """(id, TLS mode, settings) of every FTP check whose settings are readable.

    A row whose settings are not an object is left as it is: the runner
    reports such a row, and guessing at it here would only hide it.
    """
    rows = conn.execute(sa.select(checks.c.id, checks.c.tls_mode, checks.c.settings)
                        .where(checks.c.type_name == "ftp")).all()
    return [(row.id, row.tls_mode, row.settings) for row in rows if isinstance(row.settings, dict)]


def _store(conn, check_id, tls_mode, settings):
    conn.execute(sa.update(checks).where(checks.c.id == check_id).values(tls_mode=tls_mode, settings=settings))


def upgrade():
    conn = op.get_bind()
    for check_id, tls_mode, settings in _ftp_checks(conn):
        if tls_mode == "none" and settings.get("auth_tls", "optional") != "off":
            tls_mode = "starttls"
        _store(conn, check_id, tls_mode, {name: value for name, value in settings.items() if name != "auth_tls"})


def downgrade():
    conn = op.get_bind()
    for check_id, tls_mode, settings in _ftp_checks(conn):
        # The old code read auth_tls only with "none"; "starttls" there already meant AUTH TLS required.
        auth_tls = {"starttls": "required", "none": "off"}.get(tls_mode, "optional")
        _store(conn, check_id, tls_mode, {**settings, "auth_tls": auth_tls})
