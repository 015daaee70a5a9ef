"""The bundled notifiers: what a status change queues, and how e-mail and webhooks go out."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
from sqlalchemy import select

from ninerstatus import create_app
from ninerstatus.extensions import db
from ninerstatus.notifications.models import Notification
from ninerstatus.notifications.outbox import deliver_due, enqueue
from ninerstatus.plugins import get_plugins

from ..probing.conftest import server_tls
from .conftest import (CHANGE, CHECK_PASSWORD, SMTP_PASSWORD, SMTP_USER, STAFF, TRANSCRIPT_LINE, WEBHOOK_SECRET,
                       report_change)
from .receivers import StaffMailbox, WebhookReceiver


def queued(app) -> list[Notification]:
    with app.app_context():
        return list(db.session.scalars(select(Notification).order_by(Notification.id)))


def deliver(app, budget: float = 10.0) -> int:
    with app.app_context():
        return deliver_due(budget_seconds=budget)


def test_both_notifiers_are_loaded_as_entry_points(tmp_path):
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"})
    loaded = {info.name: info for info in get_plugins(app).loaded}
    assert loaded["notify_email"].source == loaded["notify_webhook"].source == "entry point"
    assert "ninerstatus_status_changed" in loaded["notify_email"].hooks


class TestWithTheEmailNotifierDisabled:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "DISABLED_PLUGINS": ["notify_email"]}

    def test_only_the_other_notifier_queues_messages(self, app):
        report_change(app)
        assert [n.channel for n in queued(app)] == ["webhook"]

    def test_mail_queued_before_stays_queued_with_the_reason(self, app, mailbox):
        with app.app_context():
            enqueue("email", {"to": STAFF[0], "change": json.loads(CHANGE)})
            db.session.commit()
        assert deliver(app) == 0
        [row] = queued(app)
        assert mailbox.messages == [] and row.attempts == 1
        assert row.last_error == "DeliveryError: no notifier plugin for the 'email' channel is loaded"


def test_a_state_change_queues_a_message_per_address_and_url_and_sends_nothing_yet(app, mailbox, webhook):
    report_change(app)
    rows = queued(app)
    assert sorted((n.channel, n.payload.get("to") or n.payload.get("url")) for n in rows) == sorted(
        [("email", STAFF[0]), ("email", STAFF[1]), ("webhook", webhook.url)])
    assert all(n.sent_at is None and n.attempts == 0 for n in rows)
    assert mailbox.messages == [] and webhook.requests == []


@pytest.mark.parametrize("previous", [None, "unknown"])
def test_settling_into_ok_from_no_data_is_not_news(app, previous):
    report_change(app, previous=previous, current="ok")
    assert queued(app) == []


def test_a_recovery_is_news(app):
    report_change(app, previous="critical", current="ok")
    assert {n.payload["change"]["current"] for n in queued(app)} == {"ok"}


def test_channels_without_settings_queue_nothing(app):
    app.config.update(NOTIFY_EMAIL_TO=[], NOTIFY_WEBHOOK_URLS="")
    report_change(app)
    assert queued(app) == []


def test_a_comma_separated_address_setting_is_a_list(app):
    app.config.update(NOTIFY_EMAIL_TO="a@example.net, b@example.net", NOTIFY_WEBHOOK_URLS=[])
    report_change(app)
    assert [n.payload["to"] for n in queued(app)] == ["a@example.net", "b@example.net"]


def test_messages_tell_what_the_probe_saw_but_never_its_transcript_or_the_check_settings(app):
    report_change(app)
    for row in queued(app):
        stored = json.dumps(row.payload)
        assert "connection refused" in stored and "connect_refused" in stored
        assert CHECK_PASSWORD not in stored and "internal-build-7" not in stored and TRANSCRIPT_LINE not in stored


def test_email_goes_to_each_address_over_starttls_after_logging_in(app, mailbox):
    app.config["NOTIFY_WEBHOOK_URLS"] = []
    report_change(app)
    assert deliver(app) == 2
    assert sorted(m.rcpt_tos[0] for m in mailbox.messages) == sorted(STAFF)
    assert all(m.over_tls for m in mailbox.messages)
    assert mailbox.logins == [(SMTP_USER, SMTP_PASSWORD, True)] * 2
    mail = mailbox.messages[0].message
    assert mail["Subject"] == "[System Status] NC036 SMTP 587: outage (was operational)"
    assert mail["From"] == "status@example.net" and mail["Auto-Submitted"] == "auto-generated"
    body = mail.get_content()
    assert "SMTP 587 on NC036 (mail.example.net:587) is now OUTAGE; it was OPERATIONAL." in body
    assert "What the probe saw: connection refused" in body
    assert all(n.sent_at is not None and n.attempts == 1 and n.last_error == "" for n in queued(app))


def test_email_is_not_sent_when_the_server_offers_no_starttls(app, start_plain_mailbox):
    plain = start_plain_mailbox()
    app.config.update(NOTIFY_WEBHOOK_URLS=[], NOTIFY_SMTP_PORT=plain.port)
    report_change(app)
    assert deliver(app) == 0
    assert plain.messages == [] and plain.logins == []
    rows = queued(app)
    assert all(n.sent_at is None and n.attempts == 1 for n in rows)
    assert "does not offer STARTTLS" in rows[0].last_error


def test_email_can_go_without_tls_when_starttls_is_turned_off(app, start_plain_mailbox):
    plain = start_plain_mailbox()
    app.config.update(NOTIFY_WEBHOOK_URLS=[], NOTIFY_SMTP_PORT=plain.port, NOTIFY_SMTP_STARTTLS=False,
                      NOTIFY_SMTP_USERNAME=None)
    report_change(app)
    assert deliver(app) == 2
    assert [m.over_tls for m in plain.messages] == [False, False]


def test_email_is_not_sent_to_a_server_with_an_untrusted_certificate(app, stranger_ca):
    stranger = StaffMailbox(tls_context=server_tls(stranger_ca, "127.0.0.1"))
    try:
        app.config.update(NOTIFY_WEBHOOK_URLS=[], NOTIFY_SMTP_PORT=stranger.port)
        report_change(app)
        assert deliver(app) == 0
        assert stranger.messages == [] and stranger.logins == []
        assert "CERTIFICATE_VERIFY_FAILED" in queued(app)[0].last_error
    finally:
        stranger.close()


def test_webhook_body_is_signed_with_the_secret_and_timestamped(app, webhook):
    app.config["NOTIFY_EMAIL_TO"] = []
    report_change(app)
    assert deliver(app) == 1
    [hook] = webhook.requests
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(hook.headers["X-Ninerstatus-Signature"], expected)
    document = hook.document
    assert hook.headers["Content-Type"] == "application/json"
    assert int(hook.headers["X-Ninerstatus-Timestamp"]) == document["timestamp"]
    assert abs(document["timestamp"] - time.time()) < 30
    assert hook.headers["X-Ninerstatus-Delivery"] == document["delivery"]
    assert document["type"] == "status_changed"
    assert (document["server"]["code"], document["check"]["name"]) == ("NC036", "SMTP 587")
    assert (document["previous"], document["current"], document["summary"]) == ("ok", "critical",
                                                                                   "connection refused")


def test_a_signature_made_with_another_secret_does_not_verify(app, webhook):
    app.config["NOTIFY_EMAIL_TO"] = []
    report_change(app)
    deliver(app)
    [hook] = webhook.requests
    forged = "sha256=" + hmac.new(b"guess", hook.body, hashlib.sha256).hexdigest()
    assert not hmac.compare_digest(hook.headers["X-Ninerstatus-Signature"], forged)


def test_a_webhook_without_a_secret_is_not_sent_unsigned(app, webhook):
    app.config.update(NOTIFY_EMAIL_TO=[], NOTIFY_WEBHOOK_SECRET="")
    report_change(app)
    assert deliver(app) == 0
    assert webhook.requests == []
    assert "NOTIFY_WEBHOOK_SECRET is not set" in queued(app)[0].last_error


def test_a_redirecting_webhook_is_a_failed_delivery(app):
    receiver = WebhookReceiver(answers=(302,))
    try:
        app.config.update(NOTIFY_EMAIL_TO=[], NOTIFY_WEBHOOK_URLS=[receiver.url])
        report_change(app)
        assert deliver(app) == 0
        assert len(receiver.requests) == 1
        assert "answered 302" in queued(app)[0].last_error
    finally:
        receiver.close()


@pytest.fixture
def start_plain_mailbox():
    """``start_plain_mailbox()`` starts a mail server without STARTTLS, closed after the test."""
    boxes: list[StaffMailbox] = []

    def start() -> StaffMailbox:
        boxes.append(StaffMailbox())
        return boxes[-1]

    yield start
    for box in boxes:
        box.close()
