"""Handing one e-mail to the configured mail server: the staff notifier and visitors' mails share it.

Settings: ``NOTIFY_SMTP_HOST``, ``NOTIFY_SMTP_PORT``,
``NOTIFY_SMTP_USERNAME``/``NOTIFY_SMTP_PASSWORD`` (optional),
``NOTIFY_SMTP_STARTTLS`` (required unless set to False) and
``NOTIFY_SMTP_CA_FILE``. A permanent refusal (a 5xx reply to the sender, the
recipient or the data) raises ``Refused``; anything else that fails is worth
trying again later.
"""
from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

from .channels import DeliveryError, Refused


def _refusal_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}"[:500]


def hand_off(mail: EmailMessage, settings: Mapping[str, Any], timeout: float) -> None:
    """Send ``mail`` through the configured server, over STARTTLS unless that is turned off."""
    with smtplib.SMTP(settings["NOTIFY_SMTP_HOST"], int(settings["NOTIFY_SMTP_PORT"]), timeout=timeout) as smtp:
        smtp.ehlo()
        if settings["NOTIFY_SMTP_STARTTLS"]:
            if not smtp.has_extn("starttls"):
                # Nothing is sent in the clear, least of all the password.
                raise DeliveryError(f"{settings['NOTIFY_SMTP_HOST']} does not offer STARTTLS, "
                                    "which NOTIFY_SMTP_STARTTLS requires")
            smtp.starttls(context=ssl.create_default_context(cafile=settings["NOTIFY_SMTP_CA_FILE"] or None))
            # What the server said before TLS is void: ask again.
            smtp.ehlo()
        if settings["NOTIFY_SMTP_USERNAME"]:
            smtp.login(settings["NOTIFY_SMTP_USERNAME"], settings["NOTIFY_SMTP_PASSWORD"] or "")
        try:
            smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            # One recipient per mail here: its reply says whether trying again could help.
            code, reply = next(iter(error.recipients.values()))
            if 500 <= code < 600:
                raise Refused(f"the mail server refused the address: {_refusal_text(code, reply)}") from None
            raise
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
            if 500 <= error.smtp_code < 600:
                raise Refused(f"the mail server refused the mail: {_refusal_text(error.smtp_code, error.smtp_error)}"
                              ) from None
            raise
