"""A stored notification is untrusted: one whose payload cannot make a message, as a hand edit, an older
release or a bug could leave it, is given up by the outbox with the reason and shown on the staff
dashboard as unreadable, and the other messages are delivered as usual."""
from __future__ import annotations

import html
import logging

import pytest
from sqlalchemy import text

from ninerstatus.extensions import db
from ninerstatus.timeutil import utcnow

from ..runner.test_untrusted_rows import sign_in_admin
from .conftest import CHANGE, STAFF, report_change
from .test_outbox import deliver_at, the_rows

#: Stored payloads no message can be made from, and the reason the outbox gives for each.
UNREADABLE = {
    "text": ('"just text"', "its payload is not a JSON object"),
    "list": ('["x"]', "its payload is not a JSON object"),
    "empty": ("{}", "it names no one receiver"),
    "receiver-number": ('{"url": 5, "delivery": "d1", "change": ' + CHANGE + '}', "it names no one receiver"),
    "two-receivers": ('{"to": "a@example.net", "url": "http://127.0.0.1:9/", "delivery": "d2", "change": '
                      + CHANGE + '}', "it names no one receiver"),
    "no-delivery": ('{"url": "http://127.0.0.1:9/x", "change": ' + CHANGE + '}', "it has no delivery id"),
    "no-change": ('{"url": "http://127.0.0.1:9/x", "delivery": "d3"}', "it holds no state change"),
    "no-server": ('{"to": "a@example.net", "delivery": "d4", "change": ' + CHANGE.replace('"code": "NC036"', '"x": 1')
                  + '}', "its server.code is missing"),
    "summary-list": ('{"url": "http://127.0.0.1:9/x", "delivery": "d5", "change": '
                     + CHANGE.replace('"refused"', '["refused"]') + '}', "its summary is not text"),
    "bad-time": ('{"to": "a@example.net", "delivery": "d6", "change": '
                 + CHANGE.replace("2026-03-02T12:00:00+00:00", "yesterday") + '}', "its checked_at is not a time"),
}
#: Text that is not JSON at all: only SQLite keeps it (PostgreSQL refuses it).
UNREADABLE_ON = {"sqlite": {"garbled": ("'{not json", "its payload is not a JSON object")}, "postgresql": {}}


def unreadable(backend: str) -> dict[str, tuple[str, str]]:
    return {**UNREADABLE, **UNREADABLE_ON[backend]}


def insert_message(channel: str, payload: str) -> None:
    """Store one message with raw SQL, due since a time written by hand (without the microseconds the code writes)."""
    db.session.execute(text(
        "INSERT INTO notifications (channel, payload, created_at, attempts, next_attempt_at, last_error) "
        f"VALUES ('{channel}', '{payload}', '2020-01-01 00:00:00', 0, '2020-01-01 00:00:00', '')"))


@pytest.fixture
def stored_messages(app, backend, webhook):
    """Three messages queued by a state change and one to ``webhook`` written by hand, beside one message per
    unreadable payload, on a channel named after it."""
    report_change(app)
    with app.app_context():
        insert_message("webhook", f'{{"url": "{webhook.url}", "delivery": "by-hand", "change": {CHANGE}}}')
        for name, (payload, _) in unreadable(backend).items():
            insert_message(name, payload.replace("'", "''"))
        db.session.commit()


def test_unreadable_messages_are_given_up_with_the_reason_and_the_good_ones_delivered(
        app, backend, stored_messages, mailbox, webhook, caplog):
    caplog.set_level(logging.WARNING, logger="ninerstatus.notifications.outbox")
    assert deliver_at(app, utcnow()) == 4
    assert sorted(rcpt for m in mailbox.messages for rcpt in m.rcpt_tos) == sorted(STAFF)
    assert sorted(hook.headers["X-Ninerstatus-Delivery"] != "by-hand" for hook in webhook.requests) == [False, True]
    rows = {row.channel: row for row in the_rows(app)}
    for name, (_, reason) in unreadable(backend).items():
        row = rows[name]
        assert row.sent_at is None and row.attempts == app.config["NOTIFY_MAX_ATTEMPTS"], name
        assert row.last_error == f"the stored message cannot be read: {reason}", name
        assert f"({name}): the stored message cannot be read: {reason}" in caplog.text, name
    # Given up for good: a later pass sends nothing and tries none of them again.
    assert deliver_at(app, utcnow()) == 0
    assert {row.channel: row.attempts for row in the_rows(app)} == {name: row.attempts for name, row in rows.items()}


def test_the_dashboard_shows_unreadable_messages_as_such_beside_the_others(app, backend, client, stored_messages):
    with app.app_context():
        db.session.execute(text("UPDATE notifications SET attempts = 1, last_error = 'answered 500'"))
        db.session.commit()
    with app.app_context():
        sign_in_admin(client)
    response = client.get("/admin/dashboard")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    listed = page[page.index('id="undelivered-notifications"'):]

    def row(channel: str) -> str:
        start = listed.index(f"<td>{channel}: ")
        return listed[start:listed.index("</tr>", start)]

    assert "NC036 SMTP 587 → critical" in row("email")
    for name, (_, reason) in unreadable(backend).items():
        assert f"unreadable</strong>: {reason}" in row(name), name
    assert "http://127.0.0.1:9/x" in row("no-change") and "(no receiver)" in row("two-receivers")
