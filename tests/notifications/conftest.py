"""Fixtures for the notifier tests: a staff mailbox with STARTTLS, a webhook receiver, and an app sending to both."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, ProbeResult, Status

from ..factories import make_server
from ..probing.conftest import ca, ca_file, server_tls, stranger_ca
from .receivers import StaffMailbox, WebhookReceiver

__all__ = ["ca", "ca_file", "stranger_ca"]

STAFF = ["oncall@example.net", "boss@example.net"]
SMTP_USER, SMTP_PASSWORD = "status", "mail-pass-1"
WEBHOOK_SECRET = "hook-secret-1"
#: What a check's settings and a probe's transcript hold that no notification may repeat.
CHECK_PASSWORD = "check-pass-1"
TRANSCRIPT_LINE = "S: 220 mail.example.net ESMTP internal-build-7"
#: A change as the runner stores it, in JSON (tests spoil it to make payloads no message can be made from).
CHANGE = ('{"check": {"id": 1, "name": "SMTP", "type": "smtp", "target": "mail.example.net:25"}, '
          '"server": {"code": "NC036", "role": "mail", "visibility": "public"}, "previous": "ok", '
          '"current": "critical", "summary": "refused", "error_kind": null, '
          '"checked_at": "2026-03-02T12:00:00+00:00"}')


@pytest.fixture
def mailbox(ca) -> Iterator[StaffMailbox]:
    """A mail server on 127.0.0.1 offering STARTTLS with a certificate from ``ca``."""
    box = StaffMailbox(tls_context=server_tls(ca, "127.0.0.1"))
    yield box
    box.close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    """A webhook receiver that answers 204."""
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def app_config(mailbox, webhook, ca_file) -> dict:
    """Notify two staff addresses through ``mailbox`` and one URL on ``webhook``."""
    return {
        "NOTIFY_EMAIL_TO": STAFF,
        "NOTIFY_EMAIL_FROM": "status@example.net",
        "NOTIFY_SMTP_HOST": "127.0.0.1",
        "NOTIFY_SMTP_PORT": mailbox.port,
        "NOTIFY_SMTP_USERNAME": SMTP_USER,
        "NOTIFY_SMTP_PASSWORD": SMTP_PASSWORD,
        "NOTIFY_SMTP_CA_FILE": ca_file,
        "NOTIFY_WEBHOOK_URLS": [webhook.url],
        "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "NOTIFY_TIMEOUT_SECONDS": 3,
    }


def report_change(app, previous: str | None = "ok", current: str = "critical") -> None:
    """Do what the runner does on a confirmed change: call the hook inside its transaction, then commit."""
    with app.app_context():
        server = make_server("NC036")
        check = Check(server=server, type_name="smtp", label="SMTP 587", host="mail.example.net", port=587,
                      settings={"password": CHECK_PASSWORD})
        db.session.add(check)
        db.session.flush()
        result = ProbeResult(Status.CRITICAL if current == "critical" else Status.OK, "connection refused",
                             error_kind=ErrorKind.CONNECT_REFUSED if current == "critical" else None,
                             transcript=(TRANSCRIPT_LINE,))
        get_plugins(app).hook.ninerstatus_status_changed(check=check, previous=previous, current=current,
                                                         result=result)
        db.session.commit()
