"""E-mail notifier: tells staff by SMTP when a check's confirmed state changes.

Settings: ``NOTIFY_EMAIL_TO`` (the staff addresses; empty turns e-mail off),
``NOTIFY_EMAIL_FROM``, ``NOTIFY_SMTP_HOST``, ``NOTIFY_SMTP_PORT``,
``NOTIFY_SMTP_USERNAME``/``NOTIFY_SMTP_PASSWORD`` (optional),
``NOTIFY_SMTP_STARTTLS`` (required unless set to False) and
``NOTIFY_SMTP_CA_FILE``. The hook only queues one message per address; the
runner's outbox sends them, so a slow mail server never delays a probe.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ninerstatus import ProbeResult, hookimpl

if TYPE_CHECKING:
    from email.message import EmailMessage

    from flask import Flask

# `ninerstatus check` loads this plugin too, and never sends: the site's parts (Flask, the
# outbox and its database) and the mail modules are imported by the functions that use them.

CHANNEL = "email"


@hookimpl
def ninerstatus_app_ready(app: Flask) -> None:
    """Let the outbox send e-mail."""
    from ninerstatus.notifications.channels import Channel, register_channel

    register_channel(app, Channel(CHANNEL, send))


@hookimpl
def ninerstatus_status_changed(check: Any, previous: str | None, current: str, result: ProbeResult) -> None:
    """Queue one message to each staff address."""
    from ninerstatus.notifications.channels import setting_list
    from ninerstatus.notifications.outbox import enqueue_change
    from ninerstatus.site_settings import site_setting

    enqueue_change(CHANNEL, "to", setting_list(site_setting("NOTIFY_EMAIL_TO")), check, previous, current,
                   result)


def message(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> EmailMessage:
    """The e-mail for one queued payload."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    from ninerstatus.notifications.messages import subject, text

    mail = EmailMessage()
    mail["From"] = settings["NOTIFY_EMAIL_FROM"]
    mail["To"] = payload["to"]
    mail["Subject"] = f"[{settings['SITE_NAME']}] {subject(payload['change'])}"
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=payload["delivery"])
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text(payload["change"], settings["SITE_NAME"]))
    return mail


def send(payload: Mapping[str, Any], settings: Mapping[str, Any], timeout: float) -> None:
    """Hand one message to the configured mail server (see notifications/smtp.py)."""
    from ninerstatus.notifications.smtp import hand_off

    hand_off(message(payload, settings), settings, timeout)
