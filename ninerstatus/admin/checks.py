"""Checks (admins only): add, edit, switch off, delete, and probe one now.

"Probe now" runs the probe in the web worker, bounded as the runner bounds it:
a probe that hangs past its deadline is abandoned and kept in the app's
``HungProbes`` registry, and while it still runs a click on its check starts
no other thread (a hung plugin holds at most one per check, whatever the clicks).
"""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from wtforms import SelectChoice

from ..accounts.roles import admin_required
from ..agents.models import Location
from ..checks.listing import listed_servers
from ..checks.models import Check
from ..checks.status import time_ago
from ..checks.validity import check_problem
from ..checktypes import CheckType
from ..extensions import db
from ..plugins import get_plugins
from ..probing import ErrorKind, ProbeResult, run_probe
from ..probing.execute import HungProbes
from ..timeutil import utcnow
from . import bp
from .check_rows import StaffCheck, staff_checks
from .check_forms import (TLS_FIELDS, check_form_class, form_script_data, quorum_choices, tls_mode_problem,
                          unreadable_secret_message)
from .check_locations import (agent_locations, assign_agents, assigned_agents, check_locations, probing_count,
                              quorum_warning, the_site_location)
from .errors import redisplays_form
from .editing import server_choices
from .servers import server_or_404


HUNG_PROBES_KEY = "ninerstatus.hung_probes"


@bp.record_once
def _keep_hung_probes(state) -> None:
    # One registry per application, shared by all its request threads (HungProbes is thread-safe).
    state.app.extensions[HUNG_PROBES_KEY] = HungProbes()


def hung_probes() -> HungProbes:
    """The probes that "probe now" abandoned in this worker and that still run, by check id."""
    return current_app.extensions[HUNG_PROBES_KEY]


def check_or_404(check_id: int) -> Check:
    """The check with ``check_id``."""
    return db.session.get(Check, check_id) or abort(404, description="There is no such check.")


def check_type_or_404(name: str) -> CheckType:
    """The loaded check type ``name``."""
    check_type = get_plugins().check_types.get(name)
    if check_type is None:
        abort(404, description=f"No loaded plugin provides the check type “{name[:40]}”.")
    return check_type


@bp.get("/checks")
@admin_required
def checks():
    """Every check of every server, with its latest result."""
    checks: dict[int, list[StaffCheck]] = {}
    for check in staff_checks():
        checks.setdefault(check.server_id, []).append(check)
    return render_template("admin/checks/list.html", servers=listed_servers(), checks=checks,
                           check_types=get_plugins().check_types)


def _offer_locations(form) -> list[Location]:
    """Give the form its choices of agent locations and of quorum; the agent locations, for the page."""
    agents = agent_locations()
    form.location_ids.choices = [SelectChoice(location.id, location.label + (" (revoked)" if location.revoked_at
                                                                             else "")) for location in agents]
    form.quorum.choices = quorum_choices(probing_count(agents, [location.id for location in agents]),
                                         form.quorum.data)
    return agents


def _save(form, check_type: CheckType, check: Check | None):
    """Validate and store the check form, or show it again with what went wrong (or what a URL filled in)."""
    form.server_id.choices = server_choices()
    agents = _offer_locations(form)
    if form.validate_on_submit():
        check = check or Check(type_name=check_type.name)
        check.server = server_or_404(form.server_id.data)
        for name, value in form.check_values().items():
            setattr(check, name, value)
        check.store_settings(form.settings_to_store(), check_type.secret_names)
        db.session.add(check)
        db.session.flush()
        assign_agents(check, form.location_ids.data or [])
        db.session.commit()
        warning = quorum_warning(check.quorum, probing_count(agents, form.location_ids.data or []))
        if warning:  # saved as asked; the check's page says it again, beside the quorum
            flash(f"Check {check.title} of {check.server.code} is saved. {warning}")
            return redirect(url_for("admin.edit_check", check_id=check.id))
        flash(f"Check {check.title} of {check.server.code} is saved.")
        return redirect(url_for("admin.checks"))
    status = 400 if request.method == "POST" and form.url_note is None else 200
    return _form_page(form, check_type, check, agents), status


def _form_page(form, check_type: CheckType, check: Check | None, agents: list[Location]) -> str:
    now = utcnow()
    return render_template("admin/checks/edit.html", form=form, check=check, check_type=check_type,
                           check_types=get_plugins().check_types, script_data=form_script_data(check_type),
                           site_location=the_site_location(), has_agents=bool(agents),
                           quorum_warning=quorum_warning(form.quorum.data,
                                                         probing_count(agents, form.location_ids.data or [])),
                           seen=check_locations(check, now) if check is not None and check.id else None,
                           now=now, time_ago=time_ago)


def _switched_type(check_type: CheckType):
    """The new-check form again, for the type staff chose in it, keeping what they typed (nothing is saved)."""
    chosen = check_type_or_404(request.form.get("type_name", check_type.name))
    formdata = request.form.copy()
    if not any(name in formdata for name in TLS_FIELDS):
        # The form came from a type without TLS fields: start them at their defaults, not as unticked.
        formdata.setlist("tls_verify", ["y"])
    form = check_form_class(chosen)(formdata=formdata)
    form.server_id.choices = server_choices()
    return _form_page(form, chosen, None, _offer_locations(form))


@bp.route("/checks/new/<type_name>", methods=["GET", "POST"])
@admin_required
@redisplays_form
def new_check(type_name: str):
    """Add a check of one type to a server."""
    check_type = check_type_or_404(type_name)
    if request.method == "POST" and "change_type" in request.form:
        return _switched_type(check_type)
    form = check_form_class(check_type)(server_id=request.args.get("server", type=int))
    return _save(form, check_type, None)


@bp.route("/checks/<int:check_id>", methods=["GET", "POST"])
@admin_required
@redisplays_form
def edit_check(check_id: int):
    """Change a check's target, schedule, visibility or settings."""
    check = check_or_404(check_id)
    check_type = check_type_or_404(check.type_name)
    form = check_form_class(check_type)(obj=check)
    if isinstance(check.settings, dict):  # a stored row is untrusted: anything else keeps nothing
        form.stored_settings, form.unreadable_secrets = check.readable_settings()
    if request.method == "GET":
        # The settings as staff know them: in clear, secrets left out (a secret is never shown back).
        form.settings.process(None, {name: value for name, value in form.stored_settings.items()
                                     if name not in check_type.secret_names})
        for name in form.unreadable_secrets:
            if name in form.settings.form:
                form.settings[name].errors = [unreadable_secret_message(check_type, name)]
        form.tls_mode.data = check.tls_mode.value
        form.family.data = check.family.value
        form.visibility.data = check.visibility.value
        form.location_ids.data = assigned_agents(check)
        # A check stored before its type declared its TLS modes, or before its settings had to
        # agree with its TLS mode, may not work as it stands: say so at once.
        problem = tls_mode_problem(check_type, check.tls_mode.value) or form.tls_conflict_problem()
        if problem:
            form.tls_mode.errors = [problem]
    return _save(form, check_type, check)


@bp.post("/checks/<int:check_id>/probe")
@admin_required
def probe_check(check_id: int):
    """Probe one check now and show everything it saw."""
    check = check_or_404(check_id)
    check_type = check_type_or_404(check.type_name)
    if hung_probes().holds(check.id):
        flash(f"Check {check.title} of {check.server.code} was not probed: its previous probe still runs past its "
              "deadline (the plugin hangs). Try again once that probe returns.")
        return redirect(url_for("admin.checks"))
    problem = check_problem(check, get_plugins().check_types)
    if problem is not None:  # as the runner does: say why, probe nothing
        result = ProbeResult.unknown(problem, ErrorKind.CONFIG_ERROR)
    else:
        result = run_probe(check_type.probe, check.target(), check.probe_settings(), check.timeout_seconds,
                           tls_policy=check.tls_policy(), hung=hung_probes(), key=check.id)
    check.record(result)
    db.session.commit()
    return render_template("admin/checks/result.html", check=check, result=result)


@bp.route("/checks/<int:check_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_check(check_id: int):
    """Delete a check, after asking."""
    check = check_or_404(check_id)
    if request.method == "POST":
        title, code = check.title, check.server.code
        db.session.delete(check)
        db.session.commit()
        flash(f"Check {title} of {code} is deleted.")
        return redirect(url_for("admin.checks"))
    return render_template("admin/checks/delete.html", check=check)
