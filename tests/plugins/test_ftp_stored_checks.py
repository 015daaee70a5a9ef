"""FTP checks stored before the TLS mode alone decided: migration 0007 keeps what each did, on both databases."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade
from sqlalchemy import MetaData, Table, select

from ninerstatus.checks.models import Check
from ninerstatus.checks.secrets import open_settings, site_cipher
from ninerstatus.extensions import db
from ninerstatus.probing import TlsMode

from ..conftest import BACKENDS, dispose, make_test_app, migrate_to
from ..factories import make_server

#: (label, TLS mode and auth_tls as the old code stored them) -> TLS mode now.
STORED = {
    "optional": (TlsMode.NONE, {"auth_tls": "optional"}, TlsMode.STARTTLS),
    "required": (TlsMode.NONE, {"auth_tls": "required"}, TlsMode.STARTTLS),
    "off": (TlsMode.NONE, {"auth_tls": "off"}, TlsMode.NONE),
    "never-set": (TlsMode.NONE, {}, TlsMode.STARTTLS),
    "starttls": (TlsMode.STARTTLS, {"auth_tls": "optional"}, TlsMode.STARTTLS),
    "implicit": (TlsMode.IMPLICIT, {"auth_tls": "optional"}, TlsMode.IMPLICIT),
}


@pytest.fixture(params=BACKENDS)
def app_before_0007(request, fresh_database_url, tmp_path):
    """An app on a fresh database of each backend, migrated up to 0006, with FTP checks stored as 0006 had them."""
    app = make_test_app(fresh_database_url(request.param), tmp_path)
    migrate_to(app, "0006")
    with app.app_context():
        server = make_server("NC041")
        for label, (tls_mode, auth, _) in STORED.items():
            insert_check(server_id=server.id, type_name="ftp", label=label, host="ftp.example.net", port=21,
                         tls_mode=tls_mode.value, settings={"username": "probe", "password": "pw", **auth})
        # Another type's settings are not FTP's business, whatever they hold.
        insert_check(server_id=server.id, type_name="smtp", label="smtp", host="mx.example.net", port=25,
                     tls_mode=TlsMode.NONE.value, settings={"auth_tls": "optional"})
        # A row the runner will report as unreadable is left for it to report.
        insert_check(server_id=server.id, type_name="ftp", label="unreadable", host="ftp.example.net", port=21,
                     tls_mode=TlsMode.NONE.value, settings=["auth_tls"])
        db.session.commit()
    yield app
    dispose(app)


def checks_table() -> Table:
    """The checks table as the database holds it now (the model may have columns a migration adds later)."""
    return Table("checks", MetaData(), autoload_with=db.session.connection())


def insert_check(**values) -> None:
    """Store a check with the columns its table has at this revision, the model's defaults filling the rest."""
    table = checks_table()
    for column in table.columns:
        default = Check.__table__.c[column.name].default
        if column.name not in values and not column.primary_key and default is not None:
            values[column.name] = default.arg(None) if default.is_callable else default.arg
    db.session.execute(table.insert().values(**values))


def stored(app) -> dict[str, tuple[TlsMode, dict]]:
    with app.app_context():
        table = checks_table()
        rows = db.session.execute(select(table.c.label, table.c.tls_mode, table.c.settings))
        return {label: (TlsMode(mode), settings) for label, mode, settings in rows}


def test_upgrade_gives_each_ftp_check_the_tls_mode_that_keeps_what_it_did(app_before_0007):
    migrate_to(app_before_0007)
    checks = stored(app_before_0007)
    assert {label: checks[label][0] for label in STORED} == {label: now for label, (_, _, now) in STORED.items()}
    with app_before_0007.app_context():  # migration 0010 then encrypts the password (see docs/check-settings.md)
        cipher = site_cipher()
        assert all(open_settings(checks[label][1], cipher) == {"username": "probe", "password": "pw"}
                   for label in STORED)
    assert checks["smtp"] == (TlsMode.NONE, {"auth_tls": "optional"})
    assert checks["unreadable"] == (TlsMode.NONE, ["auth_tls"])


def test_downgrade_gives_the_old_code_what_it_needs_to_do_the_same(app_before_0007):
    migrate_to(app_before_0007)
    with app_before_0007.app_context():
        downgrade(revision="0006")
    checks = stored(app_before_0007)
    assert checks.pop("unreadable") == (TlsMode.NONE, ["auth_tls"])
    modes_and_auth = {label: (mode, settings["auth_tls"]) for label, (mode, settings) in checks.items()}
    assert modes_and_auth == {
        "optional": (TlsMode.STARTTLS, "required"), "required": (TlsMode.STARTTLS, "required"),
        "off": (TlsMode.NONE, "off"), "never-set": (TlsMode.STARTTLS, "required"),
        "starttls": (TlsMode.STARTTLS, "required"), "implicit": (TlsMode.IMPLICIT, "optional"),
        "smtp": (TlsMode.NONE, "optional"),
    }
