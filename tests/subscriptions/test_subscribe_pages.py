"""The visitors' side: subscribing, confirming, managing and leaving, and what it must never give away."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from ninerstatus.extensions import db
from ninerstatus.subscriptions.models import Subscriber, SubscriberStatus
from ninerstatus.subscriptions.tokens import CONFIRM, MANAGE, UNSUBSCRIBE, make_token
from ninerstatus.timeutil import utcnow

from ..admin.accounts import csrf_token_in
from ..factories import make_server
from .conftest import confirmed_subscriber, deliver, links_in, path_of, subscribe, text_of


def _subscriber(app, email):
    with app.app_context():
        row = db.session.scalar(select(Subscriber).where(Subscriber.email == email))
        if row is not None:
            db.session.expunge(row)
        return row


def test_subscribing_sends_only_a_confirmation_until_the_link_is_used(app, client, mailbox):
    response = subscribe(client, "Ann@Example.org ")
    assert response.status_code == 200
    assert "Check your inbox" in response.get_data(as_text=True)
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.PENDING
    deliver(app)
    [mail] = mailbox.to("ann@example.org")
    assert mail["Subject"].startswith("Confirm your subscription")
    [link] = links_in(mail, "/subscribe/confirm/")
    # The GET a mail scanner makes changes nothing: it shows a button.
    page = client.get(path_of(link))
    assert page.status_code == 200 and "Yes, subscribe" in page.get_data(as_text=True)
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.PENDING
    answer = client.post(path_of(link), data={"csrf_token": csrf_token_in(page.get_data(as_text=True))})
    assert answer.status_code == 200 and "You are subscribed" in answer.get_data(as_text=True)
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.CONFIRMED


def test_confirming_needs_the_csrf_token(app, client, mailbox):
    subscribe(client, "ann@example.org")
    deliver(app)
    [link] = links_in(mailbox.to("ann@example.org")[0], "/subscribe/confirm/")
    assert client.post(path_of(link)).status_code == 400
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.PENDING


def test_new_pending_and_subscribed_addresses_get_the_same_answer(app, client, mailbox):
    confirmed_subscriber(app, "known@example.org")
    subscribe(client, "pending@example.org")
    answers = {email: subscribe(client, email) for email in
               ("new@example.org", "pending@example.org", "known@example.org")}
    bodies = {email: (response.status_code, response.get_data(as_text=True).replace(email, "ADDRESS"))
              for email, response in answers.items()}
    assert len(set(bodies.values())) == 1, "the answer tells which addresses are known"
    deliver(app)
    # Only the mailbox learns the difference: the subscribed address is offered its manage link.
    [known] = mailbox.to("known@example.org")
    assert known["Subject"].startswith("Your subscription") and links_in(known, "/subscribe/manage/")
    assert not links_in(known, "/subscribe/confirm/")
    assert all(mail["Subject"].startswith("Confirm") for mail in mailbox.to("pending@example.org"))
    # Subscribing a known address again changes nothing about what it gets.
    assert _subscriber(app, "known@example.org").status is SubscriberStatus.CONFIRMED


def test_requests_are_throttled_per_address(app, client, mailbox):
    limit = app.config["SUBSCRIBE_MAX_REQUESTS_PER_ADDRESS"]
    statuses = [subscribe(client, "ann@example.org").status_code for _ in range(limit + 1)]
    assert statuses == [200] * limit + [429]
    # Another address from the same client is still welcome.
    assert subscribe(client, "bob@example.org").status_code == 200
    deliver(app)
    assert len(mailbox.to("ann@example.org")) == limit


def test_requests_are_throttled_per_client_network(app, client):
    app.config["SUBSCRIBE_MAX_REQUESTS_PER_CLIENT"] = 2
    environ = {"REMOTE_ADDR": "2001:db8::1"}
    token = csrf_token_in(client.get("/subscribe").get_data(as_text=True))

    def ask(email, address):
        return client.post("/subscribe", data={"email": email, "scope": "all", "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert [ask(f"u{n}@example.org", environ["REMOTE_ADDR"]) for n in range(2)] == [200, 200]
    # The same /64 counts as the same client; another network does not.
    assert ask("u3@example.org", "2001:db8::ffff") == 429
    assert ask("u4@example.org", "2001:db8:1::1") == 200


def test_the_honeypot_answers_alike_and_sends_nothing(app, client, mailbox):
    response = subscribe(client, "bot@example.org", website="http://spam.example")
    assert response.status_code == 200 and "Check your inbox" in response.get_data(as_text=True)
    assert _subscriber(app, "bot@example.org") is None
    deliver(app)
    assert mailbox.messages == []


def test_subscribing_needs_the_csrf_token(app, client):
    response = client.post("/subscribe", data={"email": "ann@example.org", "scope": "all"})
    assert response.status_code == 400
    assert _subscriber(app, "ann@example.org") is None


def test_choosing_servers_needs_one(app, client):
    with app.app_context():
        make_server("NC036")
    response = subscribe(client, "ann@example.org", scope="servers")
    assert response.status_code == 400 and "Choose at least one server" in response.get_data(as_text=True)


def test_a_server_page_preselects_its_server(app, client):
    with app.app_context():
        server_id = make_server("NC036").id
        make_server("NC031")
    page = client.get("/servers/NC036").get_data(as_text=True)
    assert 'name="server" value="NC036"' in page
    form = client.get("/subscribe?server=NC036&email=ann%40example.org").get_data(as_text=True)
    checked = re.findall(r'<input checked[^>]*name="servers"[^>]*value="(\d+)"', form)
    assert checked == [str(server_id)]
    assert re.search(r'<input checked[^>]*value="servers"', form)
    assert 'value="ann@example.org"' in form


def test_expired_forged_and_cross_purpose_links_are_refused(app, client):
    subscriber_id = None
    with app.app_context():
        subscriber = Subscriber(email="ann@example.org", status=SubscriberStatus.PENDING)
        db.session.add(subscriber)
        db.session.commit()
        subscriber_id = subscriber.id
        hours = app.config["SUBSCRIBER_CONFIRM_HOURS"]
        fresh = make_token(CONFIRM, subscriber, issued_at=utcnow() - timedelta(hours=hours - 1))
        expired = make_token(CONFIRM, subscriber, issued_at=utcnow() - timedelta(hours=hours + 1))
        unsubscribe = make_token(UNSUBSCRIBE, subscriber)
    forged = fresh[:-3] + ("AAA" if not fresh.endswith("AAA") else "BBB")
    assert client.get(f"/subscribe/confirm/{fresh}").status_code == 200
    for token in (expired, forged, unsubscribe):
        response = client.get(f"/subscribe/confirm/{token}")
        assert response.status_code == 400 and "This link does not work" in response.get_data(as_text=True)
        assert client.post(f"/subscribe/confirm/{token}",
                           data={"csrf_token": csrf_token_in(client.get("/subscribe").get_data(as_text=True))}
                           ).status_code == 400
    assert client.post(f"/unsubscribe/{fresh}").status_code == 400
    with app.app_context():
        assert db.session.get(Subscriber, subscriber_id).status is SubscriberStatus.PENDING


def test_one_click_unsubscribe_needs_no_token_nor_account(app, client):
    subscriber_id = confirmed_subscriber(app, "ann@example.org")
    with app.app_context():
        token = make_token(UNSUBSCRIBE, db.session.get(Subscriber, subscriber_id))
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "<form method=\"post\">" in page.get_data(as_text=True)
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.CONFIRMED
    # What a mail program sends for RFC 8058: a form body, no cookie, no CSRF token.
    response = client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.UNSUBSCRIBED
    assert "no-store" in response.headers["Cache-Control"]


def test_the_manage_page_changes_servers_and_leaves(app, client):
    with app.app_context():
        nc36, nc31 = make_server("NC036"), make_server("NC031")
        ids = (nc36.id, nc31.id)
    subscriber_id = confirmed_subscriber(app, "ann@example.org")
    with app.app_context():
        token = make_token(MANAGE, db.session.get(Subscriber, subscriber_id))
    page = client.get(f"/subscribe/manage/{token}").get_data(as_text=True)
    saved = client.post(f"/subscribe/manage/{token}", data={
        "csrf_token": csrf_token_in(page), "scope": "servers", "servers": [ids[1]], "action": "save"})
    assert saved.status_code == 200 and "Saved" in saved.get_data(as_text=True)
    with app.app_context():
        subscriber = db.session.get(Subscriber, subscriber_id)
        assert (subscriber.all_servers, [server.code for server in subscriber.servers]) == (False, ["NC031"])
    left = client.post(f"/subscribe/manage/{token}", data={"csrf_token": csrf_token_in(page), "action": "leave"})
    assert "You are unsubscribed" in left.get_data(as_text=True)
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.UNSUBSCRIBED
    # Gone means gone: the manage link no longer opens anything.
    assert client.get(f"/subscribe/manage/{token}").status_code == 400


def test_subscribing_again_after_leaving_voids_the_old_links(app, client, mailbox):
    subscriber_id = confirmed_subscriber(app, "ann@example.org", status=SubscriberStatus.UNSUBSCRIBED)
    with app.app_context():
        old = make_token(UNSUBSCRIBE, db.session.get(Subscriber, subscriber_id))
    subscribe(client, "ann@example.org")
    assert _subscriber(app, "ann@example.org").status is SubscriberStatus.PENDING
    assert client.get(f"/unsubscribe/{old}").status_code == 400
    deliver(app)
    [mail] = mailbox.to("ann@example.org")
    assert "confirm" in text_of(mail)
