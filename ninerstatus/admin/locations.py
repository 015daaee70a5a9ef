"""Probe locations (admins only): add one, see how its agent is doing, choose its checks, revoke its token.

A new token is shown once, on the page that answers the form, with the
command that runs the agent; the site keeps only a hash of it.
"""
from __future__ import annotations

import shlex

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..accounts.roles import admin_required
from ..agents.locations import agent_health, issue_token, revoke_token, seen_from
from ..agents.models import CheckLocation, Location
from ..agents.signing import Token
from ..checks.models import Check
from ..checks.status import time_ago
from ..extensions import db
from ..timeutil import utcnow
from . import bp
from .check_locations import keep_assignments
from .errors import redisplays_form
from .forms import LocationForm


SITE_PROBES_EVERY_CHECK = ("This site's own runner probes every enabled check: its checks cannot be chosen. "
                           "Nothing was saved.")


def location_or_404(location_id: int) -> Location:
    """The location ``location_id``."""
    return db.session.get(Location, location_id) or abort(404, description="There is no such location.")


def _check_choices() -> list[tuple[int, str]]:
    checks = db.session.scalars(select(Check).options(joinedload(Check.server)).order_by(Check.id))
    return [(check.id, f"{check.server.code}: {check.title}") for check in checks]


def _assigned(location: Location) -> list[int]:
    return list(db.session.scalars(select(CheckLocation.check_id).where(CheckLocation.location_id == location.id)))


def _name_taken(name: str, location: Location | None) -> bool:
    other = db.session.scalar(select(Location).where(func.lower(Location.name) == name.strip().lower()))
    return other is not None and other is not location


def _assign(location: Location, check_ids: list[int]) -> None:
    """Make ``location`` probe exactly ``check_ids``; a kept assignment keeps its state."""
    keep_assignments({row.check_id: row for row in location.assignments}, check_ids,
                     lambda check_id: CheckLocation(check_id=check_id, location_id=location.id))


@bp.get("/locations")
@admin_required
def locations():
    """Every probe location and how its agent is doing."""
    rows = db.session.scalars(select(Location).order_by(Location.is_site.desc(), func.lower(Location.name))).all()
    counts = dict(db.session.execute(select(CheckLocation.location_id, func.count()).group_by(
        CheckLocation.location_id)).all())
    now = utcnow()
    return render_template("admin/locations/list.html", locations=rows, counts=counts, now=now, time_ago=time_ago,
                           health={location.id: agent_health(location, now) for location in rows})


@bp.route("/locations/new", methods=["GET", "POST"])
@admin_required
@redisplays_form
def new_location():
    """Add a probe location; its token is shown once."""
    return _edit(LocationForm(), None)


@bp.route("/locations/<int:location_id>", methods=["GET", "POST"])
@admin_required
@redisplays_form
def edit_location(location_id: int):
    """Change a location's name, place or network, and the checks it probes."""
    location = location_or_404(location_id)
    form = LocationForm(obj=location)
    if request.method == "GET" and not location.is_site:
        form.checks.data = _assigned(location)
    return _edit(form, location)


def _edit(form: LocationForm, location: Location | None):
    """Validate and save the location form, or show it with what went wrong.

    The site's own runner probes every enabled check: its form has no list
    of checks, and one sent anyway is refused, whatever it holds.
    """
    form.checks.choices = _check_choices()
    site = location is not None and location.is_site
    valid = form.validate_on_submit()
    if site and request.method == "POST" and "checks" in request.form:
        form.checks.errors = [SITE_PROBES_EVERY_CHECK]
    elif valid:
        if _name_taken(form.name.data, location):
            form.name.errors.append("Another location already has this name.")
        else:
            is_new = location is None
            location = location or Location()
            for column, value in form.location_values().items():
                setattr(location, column, value)
            db.session.add(location)
            db.session.flush()
            if not site:
                _assign(location, form.checks.data or [])
            token = issue_token(location) if is_new else None
            db.session.commit()
            if token is not None:
                return _show_token(location, token)
            flash(f"Location {location.name} is saved.")
            return redirect(url_for("admin.locations"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/locations/edit.html", form=form, location=location, now=utcnow(),
                           seen=seen_from(location) if location else [], time_ago=time_ago), status


def _show_token(location: Location, token: Token):
    """The one page that shows a location's token, with the commands that run its agent."""
    return render_template("admin/locations/token.html", location=location, token=str(token),
                           site_url=url_for("public.home", _external=True),
                           install=shlex.quote(current_app.config["AGENT_INSTALL"]))


@bp.post("/locations/<int:location_id>/token")
@admin_required
def new_location_token(location_id: int):
    """Give a location a new token: the old one stops working at once."""
    location = location_or_404(location_id)
    if location.is_site:
        abort(400, description="The site's own runner needs no token.")
    token = issue_token(location)
    db.session.commit()
    return _show_token(location, token)


@bp.post("/locations/<int:location_id>/revoke")
@admin_required
def revoke_location(location_id: int):
    """Stop a location's agent: its token no longer works; its results so far are kept."""
    location = location_or_404(location_id)
    if location.is_site:
        abort(400, description="The site's own runner has no token to revoke.")
    revoke_token(location, utcnow())
    db.session.commit()
    flash(f"The token of {location.name} is revoked: its agent can no longer report.")
    return redirect(url_for("admin.locations"))
