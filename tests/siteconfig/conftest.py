"""Fixtures for config as code: a site with servers, checks of several types and stored notifier settings.

``build_site`` makes the site a hosting company would have (secrets
included); ``snapshot`` reads back everything the file is meant to carry,
secrets in clear, so two sites can be compared whole.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from ninerstatus.agents.locations import issue_token, site_location, unsaved_site_location
from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.agents.signing import Token
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import Server, Visibility
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import Family, TlsMode
from ninerstatus.site_settings import effective_settings, store_setting

from ..conftest import dispose, make_test_app, migrate_to
from ..factories import make_server

#: Secret values the site holds: none of them may ever appear in an exported file.
IMAP_PASSWORD = "imap-pass-7Q!x"
FTP_PASSWORD = "ftp pass with spaces"
SMTP_PASSWORD = "relay-pass-K9"
WEBHOOK_SECRET = "hook-secret-Zz3"
SECRETS = (IMAP_PASSWORD, FTP_PASSWORD, SMTP_PASSWORD, WEBHOOK_SECRET)
#: What each secret's variable holds when the exported file is applied.
ENVIRONMENT = {
    "NINERSTATUS_SECRET_NC036_IMAP_993_PASSWORD": IMAP_PASSWORD,
    "NINERSTATUS_SECRET_NC040_FILES_PASSWORD": FTP_PASSWORD,
    "NINERSTATUS_SECRET_NOTIFY_SMTP_PASSWORD": SMTP_PASSWORD,
    "NINERSTATUS_SECRET_NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
}


def add_check(server: Server, type_name: str, host: str, port: int, settings: dict[str, str] | None = None,
              **columns: Any) -> Check:
    """Add a check with ``settings`` parsed by its type, as the site stores them."""
    check_type = get_plugins().check_types[type_name]
    check = Check(server=server, type_name=type_name, host=host, port=port,
                  tls_mode=columns.pop("tls_mode", check_type.default_tls(port)), **columns)
    check.store_settings(check_type.parse_settings(settings or {}), check_type.secret_names)
    db.session.add(check)
    db.session.commit()
    return check


def build_site() -> None:
    """Two servers with five checks of five types, and notifier settings stored over the configuration."""
    mail = make_server("NC036", role="Mail server", city="Zürich", country="Switzerland", display_order=10,
                       notes="Primary MX.\nMaintenance: Sundays, 02:00 “UTC”.")
    web = make_server("NC040", Visibility.INTERNAL, role="Web server", city="Toronto", country="Canada",
                      display_order=20)
    add_check(mail, "imap", "mail.example.net", 993, {"username": "probe@example.net", "password": IMAP_PASSWORD},
              tls_name="imap.example.net", warn_days=30, crit_days=10)
    add_check(mail, "smtp", "mail.example.net", 587, {"helo_name": "status.example.net"},
              label="Submission (587)", display_order=5, failures_before_down=3)
    add_check(web, "http", "192.0.2.10", 443, {"path": "/health?full=1", "expect_body": "OK", "status": "200,301"},
              label="Site", family=Family.IPV4, tls_verify=False, interval_seconds=120, timeout_seconds=2.5, quorum=2)
    add_check(web, "ftp", "files.example.net", 21, {"username": "probe", "password": FTP_PASSWORD,
                                                    "check_pasv": "yes"},
              label="Files", visibility=Visibility.INTERNAL, enabled=False)
    add_check(web, "dns", "ns1.example.net", 53, {"name": "www.example.net", "expect": "192.0.2.10\n192.0.2.11"},
              tls_mode=TlsMode.NONE, successes_before_up=2)
    for name, value in (("NOTIFY_EMAIL_TO", ["ops@example.net", "noc@example.net"]),
                        ("NOTIFY_SMTP_HOST", "relay.example.net"), ("NOTIFY_SMTP_USERNAME", "status"),
                        ("NOTIFY_SMTP_PASSWORD", SMTP_PASSWORD), ("NOTIFY_WEBHOOK_SECRET", WEBHOOK_SECRET)):
        store_setting(name, value)
    db.session.commit()


def build_locations() -> Token:
    """On a site made by ``build_site``: its own runner renamed and placed, and two agents; returns Lusaka's token.

    The site's runner probes the IMAP and HTTP checks, Lusaka (which has a token) the IMAP and DNS ones,
    Toronto (which has none yet) nothing.
    """
    checks = {check.title: check for check in db.session.scalars(select(Check))}
    site = site_location()
    site.name, site.city, site.country = "Zürich", "Zürich", "Switzerland"
    lusaka = Location(name="Lusaka", city="Lusaka", country="Zambia", network="MTN")
    toronto = Location(name="Toronto", country="Canada", network="Beanfield")
    db.session.add_all([lusaka, toronto])
    db.session.flush()
    for location, titles in ((site, ("IMAP 993", "Site")), (lusaka, ("IMAP 993", "DNS 53"))):
        db.session.add_all(CheckLocation(check_id=checks[title].id, location_id=location.id) for title in titles)
    token = issue_token(lusaka)
    db.session.commit()
    return token


SERVER_COLUMNS = ("code", "role", "city", "country", "visibility", "display_order", "notes")
CHECK_COLUMNS = ("type_name", "label", "host", "port", "tls_mode", "family", "tls_name", "tls_verify", "ca_file",
                 "warn_days", "crit_days", "interval_seconds", "timeout_seconds", "failures_before_down",
                 "successes_before_up", "quorum", "visibility", "enabled", "display_order")


def snapshot(app: Flask) -> dict[str, Any]:
    """Everything a configuration file carries, as the site now has it (secrets in clear, notifiers as effective)."""
    with app.app_context():
        db.session.expire_all()
        servers = {}
        for server in db.session.scalars(select(Server)):
            servers[server.code] = {
                **{column: getattr(server, column) for column in SERVER_COLUMNS},
                "checks": {check.title: {**{column: getattr(check, column) for column in CHECK_COLUMNS},
                                         "settings": check.probe_settings()} for check in server.checks},
            }
        notifiers = {name: value for name, value in effective_settings(app).items() if name.startswith("NOTIFY_")}
        return {"servers": servers, "notifications": notifiers, "locations": locations()}


LOCATION_COLUMNS = ("name", "city", "country", "network", "is_site")


def locations() -> dict[str, Any]:
    """Each location's columns and the checks it was given (``NC036: IMAP 993``), by name; the site's own runner as
    it will be made when the database has none yet, with none (it probes every enabled check: its rows are its
    results, not what the file gives)."""
    rows = list(db.session.scalars(select(Location)))
    if not any(row.is_site for row in rows):
        rows.append(unsaved_site_location())
    probed = db.session.execute(select(CheckLocation.location_id, Check).join(Check))
    checks: dict[int, set[str]] = {}
    for location_id, check in probed:
        checks.setdefault(location_id, set()).add(f"{check.server.code}: {check.title}")
    return {row.name: {**{column: getattr(row, column) for column in LOCATION_COLUMNS},
                       "checks": set() if row.is_site else checks.get(row.id, set())} for row in rows}


@pytest.fixture
def second_app(backend, fresh_database_url, tmp_path):
    """Another site on its own fresh, migrated database of the same backend, with another secret key."""
    folder = tmp_path / "second"
    folder.mkdir()
    app = make_test_app(fresh_database_url(backend), folder, SECRET_KEY="the-second-site's-key")
    migrate_to(app)
    yield app
    dispose(app)


@pytest.fixture
def config_file(tmp_path):
    """Write a configuration file's text and return its path."""
    def write(text: str, name: str = "site.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write
