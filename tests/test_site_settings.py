"""Settings kept in the database override the configuration's, secrets encrypted, and bad rows never stop anything."""
from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import insert, select, update

from ninerstatus.extensions import db
from ninerstatus.notifications.models import Notification
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, ProbeResult, Status
from ninerstatus.timeutil import utcnow
from ninerstatus import site_settings
from ninerstatus.site_settings import (EDITABLE, SiteSetting, effective_settings, forget_setting,
                                       keep_stored_settings, site_setting, store_setting)

from .api.conftest import add_check
from .factories import make_server


def test_a_stored_value_overrides_the_configuration_until_it_is_forgotten(app):
    app.config["NOTIFY_SMTP_HOST"] = "mail.example.net"
    with app.app_context():
        store_setting("NOTIFY_SMTP_HOST", " relay.example.net ")
        db.session.commit()
        assert site_setting("NOTIFY_SMTP_HOST") == "relay.example.net"
        assert effective_settings(app)["NOTIFY_SMTP_HOST"] == "relay.example.net"
        forget_setting("NOTIFY_SMTP_HOST")
        db.session.commit()
        assert site_setting("NOTIFY_SMTP_HOST") == "mail.example.net"


def test_a_secret_is_stored_encrypted_and_read_back_in_clear(app):
    with app.app_context():
        store_setting("NOTIFY_WEBHOOK_SECRET", "hook-secret-9")
        db.session.commit()
        stored = db.session.scalar(select(SiteSetting.value).where(SiteSetting.name == "NOTIFY_WEBHOOK_SECRET"))
        assert "hook-secret-9" not in repr(stored)
        assert site_setting("NOTIFY_WEBHOOK_SECRET") == "hook-secret-9"


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("NOTIFY_SMTP_PORT", "587", "must be a whole number"),
    ("NOTIFY_SMTP_PORT", 70000, "must be at most 65535"),
    ("NOTIFY_SMTP_PORT", True, "must be a whole number"),
    ("NOTIFY_SMTP_STARTTLS", "yes", "must be true or false"),
    ("NOTIFY_EMAIL_TO", "a@example.net", "must be a list of text"),
    ("NOTIFY_EMAIL_FROM", None, "must be text"),
    ("SECRET_KEY", "x", "not a setting the site keeps"),
])
def test_a_value_of_the_wrong_kind_is_refused_with_the_reason(app, name, value, reason):
    with app.app_context():
        with pytest.raises(ValueError, match=reason):
            store_setting(name, value)
        assert db.session.scalar(select(SiteSetting).where(SiteSetting.name == name)) is None


def test_rows_that_cannot_be_used_are_logged_and_the_configuration_applies(app, caplog):
    app.config.update(NOTIFY_SMTP_PORT=587, NOTIFY_WEBHOOK_SECRET="from-config")
    with app.app_context():
        db.session.execute(insert(SiteSetting), [
            {"name": name, "value": value, "updated_at": utcnow()} for name, value in (
                ("NOTIFY_SMTP_PORT", "not a port"),
                ("NOTIFY_WEBHOOK_SECRET", {"fernet": "spoiled-token"}),
                ("SECRET_KEY", "planted"),
                ("NOTIFY_SMTP_HOST", "relay.example.net"),
            )])
        db.session.commit()
        with caplog.at_level(logging.WARNING, logger="ninerstatus.site_settings"):
            settings = effective_settings(app)
    assert settings["NOTIFY_SMTP_PORT"] == 587
    assert settings["NOTIFY_WEBHOOK_SECRET"] == "from-config"
    assert settings["SECRET_KEY"] == app.config["SECRET_KEY"]
    assert settings["NOTIFY_SMTP_HOST"] == "relay.example.net"
    logged = caplog.text
    assert "NOTIFY_SMTP_PORT" in logged and "NOTIFY_WEBHOOK_SECRET" in logged and "SECRET_KEY" in logged


def test_every_editable_setting_has_a_default_in_the_configuration(app):
    assert set(EDITABLE) <= set(app.config)


def test_a_state_change_is_mailed_to_the_stored_addresses(app):
    app.config.update(NOTIFY_EMAIL_TO=["config@example.net"], NOTIFY_WEBHOOK_URLS=[])
    with app.app_context():
        store_setting("NOTIFY_EMAIL_TO", ["oncall@example.net", "boss@example.net"])
        db.session.commit()
        check = add_check(make_server("NC036"), Status.OK, "ok")
        get_plugins(app).hook.ninerstatus_status_changed(
            check=check, previous="ok", current="critical",
            result=ProbeResult(Status.CRITICAL, "refused", error_kind=ErrorKind.CONNECT_REFUSED))
        db.session.commit()
        receivers = sorted(row.payload["to"] for row in db.session.scalars(select(Notification)))
    assert receivers == ["boss@example.net", "oncall@example.net"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_kept_settings_see_a_change_made_elsewhere_once_they_are_old(app):
    clock = FakeClock()
    with app.app_context():
        store_setting("NOTIFY_EMAIL_TO", ["first@example.net"])
        db.session.commit()
        keep_stored_settings(app, seconds=5, clock=clock)
        assert site_setting("NOTIFY_EMAIL_TO") == ["first@example.net"]
        # Staff change it from another process: the kept value holds for a few seconds, then the new one counts.
        db.session.execute(update(SiteSetting).where(SiteSetting.name == "NOTIFY_EMAIL_TO")
                           .values(value=["second@example.net"]))
        db.session.commit()
        clock.now += 4.9
        assert site_setting("NOTIFY_EMAIL_TO") == ["first@example.net"]
        clock.now += 0.2
        assert site_setting("NOTIFY_EMAIL_TO") == ["second@example.net"]


def test_kept_settings_take_a_change_made_in_the_same_process_at_once(app):
    app.config["NOTIFY_SMTP_HOST"] = "mail.example.net"
    with app.app_context():
        keep_stored_settings(app, seconds=3600, clock=FakeClock())
        assert site_setting("NOTIFY_SMTP_HOST") == "mail.example.net"
        store_setting("NOTIFY_SMTP_HOST", "relay.example.net")
        db.session.commit()
        assert site_setting("NOTIFY_SMTP_HOST") == "relay.example.net"
        forget_setting("NOTIFY_SMTP_HOST")
        db.session.commit()
        assert site_setting("NOTIFY_SMTP_HOST") == "mail.example.net"


def test_a_kept_list_handed_out_cannot_change_what_the_next_caller_gets(app):
    with app.app_context():
        store_setting("NOTIFY_WEBHOOK_URLS", ["https://hooks.example.net/a"])
        db.session.commit()
        keep_stored_settings(app, seconds=3600, clock=FakeClock())
        site_setting("NOTIFY_WEBHOOK_URLS").append("https://attacker.example.net/")
        assert site_setting("NOTIFY_WEBHOOK_URLS") == ["https://hooks.example.net/a"]


def test_threads_asking_at_once_share_one_read_of_the_kept_settings(app, monkeypatch):
    reads = []
    read = site_settings.stored_settings

    def counted() -> dict:
        reads.append(threading.get_ident())
        return read()

    monkeypatch.setattr(site_settings, "stored_settings", counted)
    with app.app_context():
        store_setting("NOTIFY_EMAIL_TO", ["oncall@example.net"])
        db.session.commit()
    keep_stored_settings(app, seconds=3600, clock=FakeClock())
    barrier, seen = threading.Barrier(8), []

    def ask() -> None:
        with app.app_context():
            barrier.wait()
            seen.append(site_setting("NOTIFY_EMAIL_TO"))
            db.session.remove()

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [["oncall@example.net"]] * 8
    assert len(reads) == 1
