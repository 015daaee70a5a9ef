"""Visitors' subscriptions for admins: counts, search, removing one, the CSV export and the mail rate."""
from __future__ import annotations

import csv
import io

from flask import Response, flash, redirect, render_template, request, url_for
from sqlalchemy import case, func, select
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from ..accounts.roles import admin_required
from ..extensions import db
from ..public.pagination import paginate
from ..public.views import like_pattern
from ..site_settings import EDITABLE, site_setting, store_setting
from ..subscriptions.models import Broadcast, Subscriber, SubscriberStatus
from ..timeutil import utcnow
from . import bp
from .forms import StaffForm

RATE = "SUBSCRIBER_MAILS_PER_MINUTE"
PER_PAGE = 50
#: What a cell may not start with in a spreadsheet: it would be read as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RateForm(StaffForm):
    """The most subscriber mails handed to the mail server per minute."""

    rate = IntegerField("Mails per minute", validators=[
        InputRequired(), NumberRange(min=EDITABLE[RATE].minimum, max=EDITABLE[RATE].maximum)])


def _bouncing(max_bounces: int):
    return Subscriber.bounces >= max_bounces


def subscriber_counts() -> dict[str, int]:
    """How many subscribers are confirmed (and still mailed), pending, unsubscribed, and bouncing."""
    bouncing = _bouncing(int(site_setting("SUBSCRIBER_MAX_BOUNCES")))
    live = Subscriber.status == SubscriberStatus.CONFIRMED
    row = db.session.execute(select(
        func.count(case((live & ~bouncing, 1))),
        func.count(case((Subscriber.status == SubscriberStatus.PENDING, 1))),
        func.count(case((Subscriber.status == SubscriberStatus.UNSUBSCRIBED, 1))),
        func.count(case((live & bouncing, 1))))).one()
    return dict(zip(("confirmed", "pending", "unsubscribed", "bouncing"), row))


def _matching(query: str):
    statement = select(Subscriber).order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
    if query:
        statement = statement.where(Subscriber.email.like(like_pattern(query.lower()), escape="\\"))
    return statement


@bp.get("/subscribers")
@admin_required
def subscribers():
    """Visitors subscribed by e-mail: counts, search, recent broadcasts and the mail rate."""
    query = request.args.get("q", "").strip()[:254]
    form = RateForm(formdata=None, rate=int(site_setting(RATE)))
    broadcasts = db.session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(10)).all()
    return render_template("admin/subscribers.html", counts=subscriber_counts(), query=query,
                           page=paginate(_matching(query), PER_PAGE), form=form, broadcasts=broadcasts,
                           max_bounces=int(site_setting("SUBSCRIBER_MAX_BOUNCES")))


@bp.post("/subscribers/rate")
@admin_required
def subscriber_rate():
    """Change how many subscriber mails are sent per minute at most."""
    form = RateForm()
    if not form.validate_on_submit():
        flash("The rate must be a whole number of mails per minute, "
              f"from {EDITABLE[RATE].minimum} to {EDITABLE[RATE].maximum}; it was not changed.")
        return redirect(url_for("admin.subscribers"))
    store_setting(RATE, form.rate.data)
    db.session.commit()
    flash(f"Subscribers now get at most {form.rate.data} mails per minute, from the next minute on.")
    return redirect(url_for("admin.subscribers"))


@bp.post("/subscribers/<int:subscriber_id>/delete")
@admin_required
def delete_subscriber(subscriber_id: int):
    """Remove one subscriber and what they chose; their links stop working."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        flash("That subscriber was already removed.")
    else:
        db.session.delete(subscriber)
        db.session.commit()
        flash(f"{subscriber.email} is removed: no more mails go there.")
    return redirect(url_for("admin.subscribers", q=request.args.get("q", "")))


def spreadsheet_safe(value: str) -> str:
    """``value`` as a CSV cell no spreadsheet runs as a formula (a leading quote makes it text)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@bp.get("/subscribers.csv")
@admin_required
def export_subscribers():
    """Every subscriber as CSV: address, status, servers, dates, bounces."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "status", "servers", "created_at", "confirmed_at", "unsubscribed_at", "bounces"])
    for subscriber in db.session.scalars(select(Subscriber).order_by(Subscriber.id)):
        servers = "all" if subscriber.all_servers else " ".join(server.code for server in subscriber.servers)
        writer.writerow([spreadsheet_safe(cell) for cell in (
            subscriber.email, subscriber.status.value, servers,
            *(moment.isoformat() if moment else "" for moment in (
                subscriber.created_at, subscriber.confirmed_at, subscriber.unsubscribed_at)),
            str(subscriber.bounces))])
    name = f"subscribers-{utcnow():%Y%m%d-%H%M}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
