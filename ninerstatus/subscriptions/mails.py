"""What subscribers are sent: the confirmation, the "manage your subscription" note, and broadcasts.

Every mail is plain text plus HTML. The HTML escapes everything but a post's
or update's body, which goes through the sanitiser (markup.py) once more on
its way out. A broadcast's letter is written once, when the broadcast starts
(``broadcast_letter``); each subscriber's copy adds its own manage and
unsubscribe links when it is sent (``personal_mail``), with the
``List-Unsubscribe`` and ``List-Unsubscribe-Post`` headers of RFC 8058.
"""
from __future__ import annotations

from collections.abc import Mapping
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for
from markupsafe import Markup

from ..markup import html_to_text, sanitise_html
from ..models import Post, PostKind, PostUpdate
from ..timeutil import format_timestamp
from .models import Subscriber
from .tokens import CONFIRM, MANAGE, UNSUBSCRIBE, link

#: What the kinds of post told to subscribers are called in a subject.
KIND_WORDS = {PostKind.INCIDENT: "Incident", PostKind.MAINTENANCE: "Maintenance"}
#: The text fields of a broadcast's letter, and of a letter written for one subscriber.
BROADCAST_FIELDS = ("subject", "title", "heading", "text", "html", "url")
LETTER_FIELDS = ("subject", "text", "html")


def _letter(template: str, subject: str, **context: Any) -> dict[str, str]:
    """A letter from the text and HTML templates ``subscriptions/mail/<template>.txt|.html``."""
    context = {"site_name": current_app.config["SITE_NAME"], "subject": subject, **context}
    return {"subject": subject,
            "text": render_template(f"subscriptions/mail/{template}.txt", **context),
            "html": render_template(f"subscriptions/mail/{template}.html", **context)}


def confirmation_letter(subscriber: Subscriber, base_url: str) -> dict[str, str]:
    """The mail asking a new address to confirm, with its expiring link."""
    return _letter("confirm", f"Confirm your subscription to {current_app.config['SITE_NAME']}",
                   confirm_url=link(base_url, CONFIRM, subscriber), subscriber=subscriber,
                   hours=current_app.config["SUBSCRIBER_CONFIRM_HOURS"])


def manage_letter(subscriber: Subscriber, base_url: str) -> dict[str, str]:
    """The mail an address that is already subscribed gets when someone subscribes it again."""
    return _letter("manage", f"Your subscription to {current_app.config['SITE_NAME']}",
                   manage_url=link(base_url, MANAGE, subscriber),
                   unsubscribe_url=link(base_url, UNSUBSCRIBE, subscriber), subscriber=subscriber)


def broadcast_letter(post: Post, update: PostUpdate | None, base_url: str) -> dict[str, str]:
    """What every subscriber is told about ``post`` (or one ``update`` of it), written once."""
    site = current_app.config["SITE_NAME"]
    kind = KIND_WORDS.get(post.kind, "Notice")
    if update is None:
        heading = kind
        body_html = post.body_html
    else:
        heading = update.state.value.capitalize()
        body_html = update.body_html
    body_html = sanitise_html(body_html)
    facts = []
    if post.servers:
        facts.append("Servers: " + ", ".join(server.code for server in post.servers))
    if post.kind is PostKind.MAINTENANCE and post.starts_at and post.ends_at:
        facts.append(f"Window: {format_timestamp(post.starts_at)} to {format_timestamp(post.ends_at)}")
    return {
        "subject": f"[{site}] {heading}: {post.title}",
        "title": post.title,
        "heading": heading,
        "text": "\n".join(facts + ([""] if facts else []) + [html_to_text(body_html)]).strip(),
        "html": render_template("subscriptions/mail/_body.html", facts=facts, body=Markup(body_html)),
        "url": _post_url(post, base_url),
    }


def _post_url(post: Post, base_url: str) -> str:
    """The post's address on the site at ``base_url`` (broadcasts start outside any request)."""
    with current_app.test_request_context(base_url=base_url):
        path = url_for("public.post", slug=post.slug)  # with the site's own path prefix, if any
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{path}"


def letter_problem(letter: Any, fields: tuple[str, ...]) -> str | None:
    """Why a stored letter cannot be sent, in words for staff; None when it can."""
    if not isinstance(letter, Mapping):
        return "its letter is not a JSON object"
    missing = [name for name in fields if not isinstance(letter.get(name), str)]
    return f"its letter has no text for {', '.join(missing)}" if missing else None


def personal_mail(letter: Mapping[str, str], subscriber: Subscriber, base_url: str) -> dict[str, Any]:
    """One subscriber's copy of a broadcast's letter: its links, and the list headers."""
    unsubscribe_url = link(base_url, UNSUBSCRIBE, subscriber)
    context = {"site_name": current_app.config["SITE_NAME"], "letter": letter,
               "manage_url": link(base_url, MANAGE, subscriber), "unsubscribe_url": unsubscribe_url,
               "body": Markup(sanitise_html(letter["html"]))}
    targets = [f"<{unsubscribe_url}>"]
    mailbox = current_app.config["SUBSCRIBER_UNSUBSCRIBE_MAILBOX"]
    if mailbox:
        targets.append(f"<mailto:{mailbox}?subject=unsubscribe%20{subscriber.email.replace('@', '%40')}>")
    return {"to": subscriber.email, "subject": letter["subject"],
            "text": render_template("subscriptions/mail/broadcast.txt", **context),
            "html": render_template("subscriptions/mail/broadcast.html", **context),
            "headers": {"List-Unsubscribe": ", ".join(targets),
                        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}}


#: The policy subscribers' mails are written with: as the default one, with lines up to 998 characters.
SMTP_LINES = policy.default.clone(max_line_length=998)


def message(mail: Mapping[str, Any], sender: str, delivery: str) -> EmailMessage:
    """The e-mail of a prepared mail (see ``delivery.prepare``)."""
    # Lines up to SMTP's own limit: with the default 78, a long List-Unsubscribe address would be
    # folded into RFC 2047 encoded words, which mail programs do not read as an address.
    email = EmailMessage(policy=SMTP_LINES)
    email["From"] = sender
    email["To"] = mail["to"]
    email["Subject"] = mail["subject"]
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(idstring=delivery)
    # Out-of-office replies and the like are not wanted back.
    email["Auto-Submitted"] = "auto-generated"
    for name, value in mail.get("headers", {}).items():
        email[name] = value
    email.set_content(mail["text"])
    email.add_alternative(mail["html"], subtype="html")
    return email
