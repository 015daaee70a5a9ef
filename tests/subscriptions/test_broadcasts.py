"""Publishing tells subscribers: who gets what, with which headers, in batches at the admin's rate."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.models import Post, PostKind, PostStatus
from ninerstatus.notifications.models import Notification
from ninerstatus.notifications.outbox import deliver_due
from ninerstatus.site_settings import store_setting
from ninerstatus.subscriptions.fanout import announce, expand_due
from ninerstatus.subscriptions.mails import message
from ninerstatus.subscriptions.models import Broadcast, Subscriber, SubscriberStatus
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from .conftest import (confirmed_subscriber, deliver, html_of, links_in, path_of, queued, text_of,
                       unsubscribe_targets)

BODY = "<p>Mail to <strong>NC036</strong> is delayed.</p><script>alert(1)</script>"


def _write(auth, action="publish", **fields):
    data = {"title": "Mail <delayed>", "body": BODY, "kind": "incident", "tags": "", "action": action, **fields}
    return auth.post("/admin/posts/new", data)


def _post_id(app, title="Mail <delayed>") -> int:
    with app.app_context():
        return db.session.scalar(select(Post.id).where(Post.title == title))


def _broadcasts(app) -> list[Broadcast]:
    with app.app_context():
        rows = db.session.scalars(select(Broadcast).order_by(Broadcast.id)).all()
        db.session.expunge_all()
        return rows


def test_a_published_incident_reaches_subscribers_of_all_and_of_its_servers_only(app, auth, mailbox):
    with app.app_context():
        nc36_id = make_server("NC036").id
        make_server("NC031")
    confirmed_subscriber(app, "all@example.org")
    confirmed_subscriber(app, "nc36@example.org", servers=("NC036",))
    confirmed_subscriber(app, "nc31@example.org", servers=("NC031",))
    confirmed_subscriber(app, "pending@example.org", status=SubscriberStatus.PENDING)
    confirmed_subscriber(app, "left@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    auth.login()
    _write(auth, servers=[nc36_id])
    assert deliver(app) == 2
    assert {to for delivered in mailbox.messages for to in delivered.rcpt_tos} == {"all@example.org",
                                                                                   "nc36@example.org"}
    mail = mailbox.to("nc36@example.org")[0]
    assert mail["Subject"] == f"[{app.config['SITE_NAME']}] Incident: Mail <delayed>"
    [unsubscribe] = links_in(mail, "/unsubscribe/")
    assert unsubscribe_targets(mail) == [
        unsubscribe, "mailto:unsubscribe@example.net?subject=unsubscribe%20nc36%40example.org"]
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert links_in(mail, "/subscribe/manage/")
    assert "Servers: NC036" in text_of(mail) and "Mail to NC036 is delayed." in text_of(mail)
    html = html_of(mail)
    assert "Mail &lt;delayed&gt;" in html and "<strong>NC036</strong>" in html
    assert "<script" not in html
    assert "/posts/mail-delayed" in text_of(mail)


def test_each_update_and_the_resolution_are_told(app, auth, mailbox):
    confirmed_subscriber(app, "all@example.org")
    auth.login()
    _write(auth)
    post_id = _post_id(app)
    auth.post(f"/admin/posts/{post_id}/updates", {"state": "identified", "body": "<p>A full disk.</p>"})
    auth.post(f"/admin/posts/{post_id}/updates", {"state": "resolved", "body": "<p>All mail delivered.</p>"})
    deliver(app)
    subjects = [mail["Subject"].split("] ", 1)[1] for mail in mailbox.to("all@example.org")]
    assert subjects == ["Incident: Mail <delayed>", "Identified: Mail <delayed>", "Resolved: Mail <delayed>"]
    assert "All mail delivered." in text_of(mailbox.to("all@example.org")[-1])


def test_do_not_notify_publishes_without_mail(app, auth, mailbox):
    confirmed_subscriber(app, "all@example.org")
    auth.login()
    _write(auth, quiet="y")
    post_id = _post_id(app)
    auth.post(f"/admin/posts/{post_id}/updates", {"state": "resolved", "body": "<p>Done.</p>", "quiet": "y"})
    assert _broadcasts(app) == []
    deliver(app)
    assert mailbox.messages == []


def test_notices_and_drafts_are_not_told_and_a_post_is_told_once(app, auth, mailbox):
    confirmed_subscriber(app, "all@example.org")
    auth.login()
    _write(auth, kind="notice", title="New phone numbers")
    _write(auth, action="draft", title="Draft only")
    assert _broadcasts(app) == []
    _write(auth)
    post_id = _post_id(app)
    # Published again after a trip back to draft: nobody is told twice.
    form = {"title": "Mail <delayed>", "body": BODY, "kind": "incident", "tags": ""}
    auth.post(f"/admin/posts/{post_id}/edit", {**form, "action": "draft"})
    auth.post(f"/admin/posts/{post_id}/edit", {**form, "action": "publish"})
    assert len(_broadcasts(app)) == 1


def test_a_scheduled_post_is_told_when_it_goes_live_and_a_retracted_one_never(app, mailbox):
    confirmed_subscriber(app, "all@example.org")
    now = utcnow()
    with app.app_context():
        soon = make_post("Planned work", kind=PostKind.MAINTENANCE, status=PostStatus.SCHEDULED,
                         published_at=now + timedelta(hours=1))
        retracted = make_post("Retracted", status=PostStatus.SCHEDULED, published_at=now + timedelta(hours=1))
        with app.test_request_context(base_url="https://status.example.net"):
            announce(soon)
            announce(retracted)
            db.session.commit()
        db.session.get(Post, retracted.id).status = PostStatus.DRAFT
        db.session.commit()
        assert expand_due(now) == 0
    with app.app_context():
        assert deliver_due(now, budget_seconds=30) == 0
        assert expand_due(now + timedelta(hours=1, seconds=1)) == 1
    deliver(app, now + timedelta(hours=1, seconds=2))
    [mail] = mailbox.to("all@example.org")
    assert mail["Subject"].endswith("Maintenance: Planned work")
    assert "https://status.example.net/posts/planned-work" in text_of(mail)
    told = {broadcast.letter["title"] if broadcast.letter else None: broadcast for broadcast in _broadcasts(app)}
    assert told[None].outcome == "the post went back to a draft before it was told"


def _many_subscribers(app, count: int) -> None:
    with app.app_context():
        db.session.add_all(Subscriber(email=f"s{n:04}@example.org", status=SubscriberStatus.CONFIRMED)
                           for n in range(count))
        db.session.commit()


def _broadcast_now(app, rate: int | None = None) -> None:
    """An incident published a minute ago and announced, at ``rate`` mails a minute if given."""
    with app.app_context(), app.test_request_context():
        if rate is not None:
            store_setting("SUBSCRIBER_MAILS_PER_MINUTE", rate)
        announce(make_post(f"Outage {utcnow().isoformat()}", age=timedelta(minutes=1)))
        db.session.commit()


def test_fan_out_goes_in_batches_at_the_rate_set_by_the_admin(app):
    app.config["SUBSCRIBER_FANOUT_BATCH"] = 25
    _many_subscribers(app, 130)
    now = utcnow()
    with app.app_context():
        store_setting("SUBSCRIBER_MAILS_PER_MINUTE", 60)
        post = make_post("Outage", age=timedelta(minutes=1))
        with app.test_request_context():
            announce(post)
            db.session.commit()
        # One minute of the rate is queued, in batches, one mail a second.
        assert expand_due(now) == 60
        assert expand_due(now) == 0
        assert expand_due(now + timedelta(seconds=30)) == 30
        moments = [now + timedelta(seconds=step) for step in range(60, 600, 20)]
        assert sum(expand_due(moment) for moment in moments) == 40
    rows = queued(app)
    assert sorted(row.payload["subscriber"] for row in rows) == [f"s{n:04}@example.org" for n in range(130)]
    due = [row.next_attempt_at for row in rows]
    assert all(later - earlier >= timedelta(seconds=1) for earlier, later in zip(due, due[1:]))
    [broadcast] = _broadcasts(app)
    assert broadcast.finished_at is not None and broadcast.mails == 130


def test_a_faster_rate_queues_more_per_minute(app):
    _many_subscribers(app, 300)
    _broadcast_now(app, rate=240)
    with app.app_context():
        assert expand_due(utcnow()) == 240


def test_only_due_mails_are_sent(app, mailbox):
    _many_subscribers(app, 5)
    _broadcast_now(app, rate=2)
    now = utcnow()
    with app.app_context():
        expand_due(now)
        assert deliver_due(now, budget_seconds=30) == 1
        assert deliver_due(now + timedelta(seconds=29), budget_seconds=30) == 0
        assert deliver_due(now + timedelta(seconds=30), budget_seconds=30) == 1
    assert len(mailbox.messages) == 2


def test_an_address_that_left_after_the_broadcast_started_gets_nothing(app, mailbox):
    subscriber_id = confirmed_subscriber(app, "ann@example.org")
    with app.app_context():
        with app.test_request_context():
            announce(make_post("Outage", age=timedelta(minutes=1)))
            db.session.commit()
        expand_due(utcnow())
        db.session.get(Subscriber, subscriber_id).status = SubscriberStatus.UNSUBSCRIBED
        db.session.commit()
    deliver(app)
    assert mailbox.messages == []
    [row] = queued(app)
    assert row.sent_at is not None  # done with, not retried




def test_a_refused_address_is_marked_and_after_repeated_refusals_no_longer_mailed(app, mailbox):
    app.config["SUBSCRIBER_MAX_BOUNCES"] = 2
    bad = confirmed_subscriber(app, "gone@example.org")
    confirmed_subscriber(app, "fine@example.org")
    mailbox.refused.add("gone@example.org")
    _broadcast_now(app)
    deliver(app)
    with app.app_context():
        subscriber = db.session.get(Subscriber, bad)
        assert subscriber.bounces == 1 and "550" in subscriber.last_bounce
        # Refused for good: given up at once, not retried with backoff.
        failed = db.session.scalar(select(Notification).where(Notification.sent_at.is_(None)))
        assert failed.attempts == app.config["NOTIFY_MAX_ATTEMPTS"] and "550" in failed.last_error
    _broadcast_now(app)
    deliver(app)
    _broadcast_now(app)
    deliver(app)
    assert len(mailbox.to("fine@example.org")) == 3
    recipients = [row.payload["subscriber"] for row in queued(app)]
    assert recipients.count("gone@example.org") == 2, "a bouncing address was queued again"


def test_a_delivered_mail_forgets_earlier_refusals(app, mailbox):
    subscriber_id = confirmed_subscriber(app, "flaky@example.org")
    mailbox.refused.add("flaky@example.org")
    _broadcast_now(app)
    deliver(app)
    mailbox.refused.clear()
    _broadcast_now(app)
    deliver(app)
    with app.app_context():
        assert db.session.get(Subscriber, subscriber_id).bounces == 0


def test_one_click_from_a_real_mail_stops_the_next_ones(app, client, mailbox):
    confirmed_subscriber(app, "ann@example.org")
    _broadcast_now(app)
    deliver(app)
    [mail] = mailbox.to("ann@example.org")
    unsubscribe = unsubscribe_targets(mail)[0]
    assert client.post(path_of(unsubscribe), data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded").status_code == 200
    _broadcast_now(app)
    deliver(app)
    assert len(mailbox.to("ann@example.org")) == 1


def test_an_unreadable_broadcast_row_is_logged_and_skipped(app, mailbox, caplog):
    confirmed_subscriber(app, "ann@example.org")
    _broadcast_now(app)
    with app.app_context():
        expand_due(utcnow())
        broadcast = db.session.scalar(select(Broadcast))
        broadcast.letter = "not a letter"
        db.session.commit()
    deliver(app)
    assert mailbox.messages == []
    assert "not sending broadcast" in caplog.text


def test_the_list_unsubscribe_header_goes_out_as_plain_addresses_however_long():
    url = "https://status.example.net/unsubscribe/" + "WzEwMDAwLCJuOTk5OSJd" * 6
    targets = f"<{url}>, <mailto:unsubscribe@example.net?subject=unsubscribe%20a%40example.org>"
    mail = {"to": "a@example.org", "subject": "Incident: Mail delayed", "text": "Mail is delayed.",
            "html": "<p>Mail is delayed.</p>",
            "headers": {"List-Unsubscribe": targets, "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}
    raw = message(mail, "status@example.net", "delivery-1").as_bytes()
    unfolded = re.sub(rb"\r?\n[ \t]+", b" ", raw)
    # Mail programs read these headers as they are: RFC 2047 encoded words would hide the addresses.
    assert f"List-Unsubscribe: {targets}".encode() in unfolded
    assert b"=?utf-8?" not in raw
