"""Subscriptions end to end through Debian's postfix: every mail is read back from the maildir it delivered to.

A visitor subscribes, confirms with the link from the real mail, gets the
incident mail with its list headers, unsubscribes with one click and gets
nothing more; an address postfix refuses is marked as bouncing. The app sends
by submission with STARTTLS (verified against the services' private CA) and
SASL, as a hosting company's status site would.
"""
from __future__ import annotations

import mailbox
import secrets
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from ninerstatus.extensions import db
from ninerstatus.subscriptions.models import Subscriber

from ..subscriptions.conftest import (auth, confirmed_subscriber, deliver, links_in, path_of,  # noqa: F401
                                      staff, subscribe, text_of, unsubscribe_targets)
from ..admin.accounts import csrf_token_in
from ..waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def app_config(services) -> dict:
    """Send through the integration postfix's submission port, over verified STARTTLS, signed in."""
    return {"NOTIFY_EMAIL_FROM": "status@ninerstatus.test", "NOTIFY_SMTP_HOST": services["TLS_NAME"],
            "NOTIFY_SMTP_PORT": services.port("SMTP_SUBMISSION"), "NOTIFY_SMTP_STARTTLS": True,
            "NOTIFY_SMTP_CA_FILE": services.ca_file, "NOTIFY_SMTP_USERNAME": services["TEST_USER"],
            "NOTIFY_SMTP_PASSWORD": services["TEST_PASSWORD"], "NOTIFY_TIMEOUT_SECONDS": 20,
            "SUBSCRIBER_UNSUBSCRIBE_MAILBOX": "unsubscribe@ninerstatus.test"}


class Maildir:
    """The test subscribers' maildir that postfix delivers to, read by recipient."""

    def __init__(self, path: str) -> None:
        self.path = path

    def to(self, address: str) -> list[EmailMessage]:
        """Mails delivered to ``address``, in the order they were delivered (none before postfix made the maildir)."""
        try:
            box = mailbox.Maildir(self.path, factory=None, create=False)
        except mailbox.NoSuchMailboxError:  # postfix makes it at its first delivery
            return []
        found = [(message.get_date(), key, message) for key, message in box.items()
                 if message.get("Delivered-To", "").lower() == address]
        return [message_from_bytes(message.as_bytes(), policy=policy.default)
                for _, _, message in sorted(found, key=lambda item: item[:2])]

    def wait_for(self, address: str, count: int) -> list[EmailMessage]:
        """The mails to ``address`` once there are ``count`` of them."""
        def enough() -> list[EmailMessage] | None:
            mails = self.to(address)
            return mails if len(mails) >= count else None
        return wait_until(enough, message=f"{count} mails to {address} in {self.path}")


def _address(services, name: str) -> str:
    # The maildir outlives test runs: a fresh address per run keeps runs apart.
    return f"sub-{name}-{secrets.token_hex(4)}@{services['SUBSCRIBER_DOMAIN']}"


def _publish(auth, title: str) -> None:
    auth.post("/admin/posts/new", {"title": title, "body": "<p>Mail is delayed.</p>", "kind": "incident",
                                   "tags": "", "action": "publish"})


def test_subscribe_confirm_receive_and_unsubscribe_through_postfix(app, client, auth, services):
    maildir = Maildir(services["SUBSCRIBER_MAILDIR"])
    ann, marker = _address(services, "ann"), _address(services, "marker")
    refused = f"nobody-{secrets.token_hex(4)}@{services['SUBSCRIBER_DOMAIN']}"
    confirmed_subscriber(app, marker)
    refused_id = confirmed_subscriber(app, refused)

    assert subscribe(client, ann).status_code == 200
    deliver(app)
    [confirmation] = maildir.wait_for(ann, 1)
    [link] = links_in(confirmation, "/subscribe/confirm/")
    page = client.get(path_of(link))
    assert client.post(path_of(link), data={"csrf_token": csrf_token_in(page.get_data(as_text=True))}
                       ).status_code == 200

    auth.login()
    _publish(auth, "Mail delays on NC036")
    deliver(app)
    incident = maildir.wait_for(ann, 2)[1]
    assert incident["Subject"] == f"[{app.config['SITE_NAME']}] Incident: Mail delays on NC036"
    assert incident["From"] == "status@ninerstatus.test"
    assert incident["Auto-Submitted"] == "auto-generated"
    [unsubscribe] = links_in(incident, "/unsubscribe/")
    assert unsubscribe_targets(incident) == [
        unsubscribe, f"mailto:unsubscribe@ninerstatus.test?subject=unsubscribe%20{ann.replace('@', '%40')}"]
    assert incident["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Mail is delayed." in text_of(incident)
    assert incident.get_body(preferencelist=("html",)) is not None
    with app.app_context():
        assert db.session.get(Subscriber, refused_id).bounces == 1  # postfix said 550 at RCPT

    # One click, as a mail program does it: a POST with no cookie and no token.
    mail_program = app.test_client()
    assert mail_program.post(path_of(unsubscribe), data={"List-Unsubscribe": "One-Click"}).status_code == 200

    _publish(auth, "Mail delays again")
    deliver(app)
    # The marker subscriber's second mail proves postfix has handled this broadcast...
    maildir.wait_for(marker, 2)
    # ...and Ann got nothing more.
    assert len(maildir.to(ann)) == 2
