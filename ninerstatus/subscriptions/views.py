"""The visitors' subscription pages: subscribe, confirm, manage, unsubscribe.

Every answer to the subscribe form is the same page, whether the address is
new, waiting for its confirmation or already subscribed: only the mailbox
learns which (a new or waiting address is asked to confirm, a subscribed one
gets a link to manage its subscription). Links from mails open a page with a
button; only its POST changes anything, because mail scanners fetch links.
The one exception is RFC 8058's one-click unsubscribe: a POST to the
unsubscribe link, without a CSRF token or an account, is how mail programs
unsubscribe for their users.

These pages hold a CSRF token or a personal link, so none is ever kept by a
shared cache (``no-store``), unlike the public pages.
"""
from __future__ import annotations

from flask import render_template, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from ..accounts.throttle import Throttle, client_network
from ..extensions import csrf, db
from ..models import Server, Visibility
from ..timeutil import utcnow
from . import bp
from .delivery import enqueue_letter
from .forms import ALL, CHOSEN, ButtonForm, ManageForm, ServerChoiceForm, SubscribeForm, normal_address
from .mails import confirmation_letter, manage_letter
from .models import SubscribeAttempt, Subscriber, SubscriberStatus, new_nonce
from .tokens import CONFIRM, MANAGE, PATHS, UNSUBSCRIBE, read_token

THROTTLE = Throttle(SubscribeAttempt, "SUBSCRIBE_THROTTLE_WINDOW", "SUBSCRIBE_MAX_REQUESTS_PER_ADDRESS",
                    "SUBSCRIBE_MAX_REQUESTS_PER_CLIENT")


@bp.after_request
def never_shared(response):
    """Keep these pages out of every shared cache: they carry a CSRF token or a personal link."""
    response.cache_control.no_store = True
    response.cache_control.private = True
    return response


def public_servers() -> list[Server]:
    """The servers a visitor may choose from."""
    return db.session.scalars(select(Server).where(Server.visibility == Visibility.PUBLIC)
                              .order_by(Server.display_order, Server.code)).all()


def _offer_servers(form: ServerChoiceForm) -> list[Server]:
    servers = public_servers()
    form.servers.choices = [SelectChoice(server.id, f"{server.code} ({server.place})" if server.place else server.code)
                            for server in servers]
    return servers


def _apply_choice(subscriber: Subscriber, form: ServerChoiceForm) -> None:
    subscriber.all_servers = form.scope.data != CHOSEN
    chosen = set(form.servers.data or ()) if not subscriber.all_servers else set()
    subscriber.servers = [server for server in public_servers() if server.id in chosen]


def _message(title: str, text: str, status: int = 200, **links):
    return render_template("subscriptions/message.html", title=title, text=text, **links), status


def _invalid_link():
    return _message("This link does not work",
                    "It has expired, was replaced by a newer mail, or was not copied whole. "
                    "You can subscribe again from the subscribe page.", 400, subscribe_link=True)


def _base_url() -> str:
    return request.url_root.rstrip("/")


@bp.route("/subscribe", methods=["GET", "POST"])
def subscribe():
    """Subscribe to incident and maintenance mails: everything, or only some servers."""
    form = SubscribeForm()
    servers = _offer_servers(form)
    if request.method == "GET":
        # The sidebar's and the server pages' forms send the address and server here.
        form.email.data = request.args.get("email", "")[:254]
        preselected = [server.id for server in servers if server.code == request.args.get("server")]
        if preselected:
            form.scope.data, form.servers.data = CHOSEN, preselected
        return render_template("subscriptions/subscribe.html", form=form)
    if not form.validate_on_submit():
        return render_template("subscriptions/subscribe.html", form=form), 400
    address = normal_address(form.email.data)
    refusal = THROTTLE.begin(address, client_network(request.remote_addr))
    if refusal is not None:
        return _message("Too many requests", "There have been too many requests to subscribe this address, or "
                        f"from your network. Please try again in {refusal.minutes} minutes.", 429)
    if not form.website.data:  # a person: robots fill in every field they find
        _subscribe(address, form)
    return _message("Check your inbox", f"We have sent a mail to {address}. Follow the link in it to confirm, "
                    "or to manage your subscription. Nothing else is sent before you confirm.")


def _subscribe(address: str, form: SubscribeForm) -> None:
    """Ask a new or waiting address to confirm, tell a subscribed one how to manage its subscription."""
    for _ in range(2):
        subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == address))
        if subscriber is None:
            subscriber = Subscriber(email=address, status=SubscriberStatus.PENDING, nonce=new_nonce())
            db.session.add(subscriber)
        if subscriber.status is SubscriberStatus.CONFIRMED:
            # Their choice changes only through their own manage link, never through this form.
            enqueue_letter(address, manage_letter(subscriber, _base_url()))
        else:
            if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
                # Links from before they left must not confirm or manage the new subscription.
                subscriber.status, subscriber.nonce, subscriber.unsubscribed_at = \
                    SubscriberStatus.PENDING, new_nonce(), None
            _apply_choice(subscriber, form)
            db.session.flush()
            enqueue_letter(address, confirmation_letter(subscriber, _base_url()))
        try:
            db.session.commit()
            return
        except IntegrityError:
            # The same address was subscribed at the same moment by another request: answer as for a known one.
            db.session.rollback()


def _still_subscribed(purpose: str, token: str) -> Subscriber | None:
    """The subscriber of a link, unless it is not valid or they have left since."""
    subscriber = read_token(purpose, token)
    return None if subscriber is None or subscriber.status is SubscriberStatus.UNSUBSCRIBED else subscriber


@bp.route(PATHS[CONFIRM] + "<token>", methods=["GET", "POST"])
def confirm(token: str):
    """Confirm a subscription (the link in the confirmation mail)."""
    subscriber = _still_subscribed(CONFIRM, token)
    if subscriber is None:
        return _invalid_link()
    form = ButtonForm()
    if request.method == "GET" and subscriber.status is SubscriberStatus.PENDING:
        return render_template("subscriptions/confirm.html", form=form, subscriber=subscriber)
    if request.method == "POST" and not form.validate_on_submit():
        return render_template("subscriptions/confirm.html", form=form, subscriber=subscriber), 400
    if subscriber.status is SubscriberStatus.PENDING:
        subscriber.status, subscriber.confirmed_at = SubscriberStatus.CONFIRMED, utcnow()
        db.session.commit()
    return _message("You are subscribed", f"{subscriber.email} will get a mail for each incident and "
                    "maintenance notice, each update and the resolution. Every mail has a link to change what "
                    "you get or to leave.")


@bp.route(PATHS[MANAGE] + "<token>", methods=["GET", "POST"])
def manage(token: str):
    """Change which servers a subscription is about, or leave."""
    subscriber = _still_subscribed(MANAGE, token)
    if subscriber is None:
        return _invalid_link()
    form = ManageForm()
    _offer_servers(form)
    if request.method == "GET":
        form.scope.data = ALL if subscriber.all_servers else CHOSEN
        form.servers.data = [server.id for server in subscriber.servers]
        return render_template("subscriptions/manage.html", form=form, subscriber=subscriber)
    if request.form.get("action") == "leave" and ButtonForm().validate_on_submit():
        return _leave(subscriber)
    if not form.validate_on_submit():
        return render_template("subscriptions/manage.html", form=form, subscriber=subscriber), 400
    _apply_choice(subscriber, form)
    db.session.commit()
    return render_template("subscriptions/manage.html", form=form, subscriber=subscriber, saved=True)


def _leave(subscriber: Subscriber):
    if subscriber.status is not SubscriberStatus.UNSUBSCRIBED:
        subscriber.status, subscriber.unsubscribed_at = SubscriberStatus.UNSUBSCRIBED, utcnow()
        db.session.commit()
    return _message("You are unsubscribed", f"No more mails will be sent to {subscriber.email}.")


@bp.get(PATHS[UNSUBSCRIBE] + "<token>")
def unsubscribe_page(token: str):
    """Leave with one button (the unsubscribe link in every mail)."""
    subscriber = read_token(UNSUBSCRIBE, token)
    if subscriber is None:
        return _invalid_link()
    if subscriber.status is SubscriberStatus.UNSUBSCRIBED:
        return _message("You are unsubscribed", f"No more mails will be sent to {subscriber.email}.")
    return render_template("subscriptions/unsubscribe.html", subscriber=subscriber)


@bp.post(PATHS[UNSUBSCRIBE] + "<token>")
@csrf.exempt
def unsubscribe(token: str):
    """Unsubscribe at once: the button above, or a mail program's one-click POST (RFC 8058)."""
    subscriber = read_token(UNSUBSCRIBE, token)
    if subscriber is None:
        return _invalid_link()
    return _leave(subscriber)
