"""The staff dashboard: what needs a person now.

Open incidents (published, not resolved yet) with a way to update or resolve
each; incidents the probes drafted (publish in one click, or edit first) beside
what the probes see now, for staff only; updates the runner suggests on
recovery (publish or dismiss), checks that are not OK, checks that cannot
run at all as they are stored, whether a probe runner is alive and how late
it starts probes, and notifications that could not be sent.
Editors and admins alike may act here: everything published is a post.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import cache

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from ..checks.listing import listed_servers
from ..checks.status import CheckState, check_state
from ..extensions import db
from ..incident_floors import open_incidents
from ..models import Post, PostStatus, PostUpdate, UpdateState
from ..notifications.models import Notification
from ..notifications.channels import channel_named
from ..notifications.outbox import payload_problem, receiver
from ..subscriptions.fanout import announce
from ..plugins import get_plugins
from ..probing import Status
from ..runner.incidents import PROBE_ORIGIN
from ..runner.lateness import LATE_SECONDS
from ..runner.models import RunnerHeartbeat
from ..timeutil import utcnow
from . import bp
from .check_rows import StaffCheck, staff_checks
from .editing import PUBLISH, add_state_update, apply_action, record_revision
from .findings import post_findings
from .posts import post_or_404

#: A runner that has not reported for this long is presumed dead.
HEARTBEAT_LIMIT = timedelta(minutes=1)
UNDELIVERED_SHOWN = 20


@cache
def _drafts_statement() -> Select:
    """The incidents the probes drafted, newest first, with their servers; built once per process."""
    return (select(Post).options(selectinload(Post.servers))
            .where(Post.origin == PROBE_ORIGIN, Post.status == PostStatus.DRAFT)
            .order_by(Post.created_at.desc(), Post.id.desc()))


def checks_in_trouble(checks: Iterable[StaffCheck], now: datetime) -> list[tuple[StaffCheck, CheckState]]:
    """Those of the enabled ``checks``, internal ones included, whose state is not OK (stale and unknown ones too)."""
    shown = [(check, check_state(check, now)) for check in checks]
    trouble = [(check, state) for check, state in shown if state.status is not Status.OK]
    return sorted(trouble, key=lambda item: (-item[1].status.severity, item[0].server_code, item[0].title))


def checks_that_cannot_run(checks: Iterable[StaffCheck]) -> list[tuple[StaffCheck, str]]:
    """Those of the enabled ``checks`` the runner skips as they are stored, each with the reason it gives them."""
    check_types = get_plugins().check_types
    found = [(check, check.problem(check_types)) for check in checks]
    return [(check, problem) for check, problem in found if problem is not None]


def runner_lateness(runner: RunnerHeartbeat) -> str:
    """In words: how many probes the runner started before its latest heartbeat, and how late."""
    def seconds(value: float | None) -> str:
        return "?" if value is None else f"{value:.1f} s"

    window = f"the last {runner.lag_window_seconds:.0f} s"
    if not runner.probes:
        return f"no probes in {window}"
    said = f"{runner.probes:,} probe{'' if runner.probes == 1 else 's'} in {window}"
    if not runner.late_probes:
        return f"{said}, on time (p99 lag {seconds(runner.lag_p99_seconds)})"
    slow = (f"; {runner.late_slow_probes:,} of them of checks whose probes time out or run long"
            if runner.late_slow_probes else "")
    return (f"{said}; {runner.late_probes:,} started over {LATE_SECONDS:g} s after their slot "
            f"(p99 lag {seconds(runner.lag_p99_seconds)}, worst {seconds(runner.lag_max_seconds)}){slow}")


@bp.get("/dashboard")
def dashboard():
    """What needs staff now: open incidents, drafted ones, suggested updates, failing checks, runners."""
    now = utcnow()
    checks = staff_checks(enabled=True)
    drafts = db.session.scalars(_drafts_statement()).all()
    suggested = db.session.scalars(select(Post).where(Post.pending_update_state.is_not(None))
                                   .order_by(Post.updated_at.desc(), Post.id.desc())).all()
    runners = db.session.scalars(select(RunnerHeartbeat).order_by(RunnerHeartbeat.heartbeat_at.desc())).all()
    undelivered = db.session.scalars(select(Notification)
                                     .where(Notification.sent_at.is_(None), Notification.attempts > 0)
                                     .order_by(Notification.created_at.desc()).limit(UNDELIVERED_SHOWN)).all()
    # Stored payloads are untrusted: each is shown as far as it can be read, and why not beyond.
    app = current_app._get_current_object()
    undelivered = [(message, receiver(message.payload),
                    payload_problem(message.payload, channel_named(app, message.channel)))
                   for message in undelivered]
    return render_template("admin/dashboard.html", now=now, drafts=drafts, suggested=suggested,
                           open_now=open_incidents(now),
                           findings={post.id: post_findings(post, now, checks) for post in drafts},
                           # The drafts' servers as visitors' pages list them: their states without a load each.
                           listed={server.id: server for server in listed_servers()} if drafts else {},
                           troubled=checks_in_trouble(checks, now), cannot_run=checks_that_cannot_run(checks),
                           runners=runners,
                           runner_alive=any(now - r.heartbeat_at <= HEARTBEAT_LIMIT for r in runners),
                           heartbeat_limit=HEARTBEAT_LIMIT, runner_lateness=runner_lateness, undelivered=undelivered,
                           max_attempts=current_app.config["NOTIFY_MAX_ATTEMPTS"],
                           update_states=[state.value for state in UpdateState])


@bp.post("/dashboard/posts/<int:post_id>/publish")
def publish_draft(post_id: int):
    """Publish a drafted incident as it stands; its timeline starts at "investigating"."""
    post = post_or_404(post_id)
    now = utcnow()
    if post.is_visible(now):
        flash(f"“{post.title}” was already published.")
        return redirect(url_for("admin.dashboard"))
    if not post.body_text.strip():
        flash(f"“{post.title}” has no text yet: edit it before publishing.")
        return redirect(url_for("admin.edit_post", post_id=post.id))
    author = current_user._get_current_object()
    apply_action(post, PUBLISH, None, now)
    # Without an update it would read as a report of something already over.
    if not post.updates:
        add_state_update(post, UpdateState.INVESTIGATING, "", now, author)
    record_revision(post, author, note="published from the dashboard")
    announce(post)
    db.session.commit()
    flash(f"“{post.title}” is published. Visitors can read it now.")
    return redirect(url_for("admin.dashboard"))


def _post_with_suggestion(post_id: int) -> Post:
    post = post_or_404(post_id)
    if post.pending_update_state is None:
        abort(404, description="That post has no suggested update (someone may have handled it already).")
    return post


@bp.post("/dashboard/posts/<int:post_id>/suggested-update/publish")
def publish_suggested_update(post_id: int):
    """Add the update the runner suggested to the post's timeline."""
    post = _post_with_suggestion(post_id)
    now = utcnow()
    try:
        state = UpdateState(post.pending_update_state)
    except ValueError:  # a stored row is untrusted: a hand edit or an older release may name any state
        flash(f"The suggested update on “{post.title}” names no state an update can have "
              f"(“{post.pending_update_state}”), so it was not published: dismiss it, and add an update in the "
              "editor instead.")
        return redirect(url_for("admin.dashboard"))
    update = PostUpdate(state=state, created_at=now, author=current_user._get_current_object())
    update.set_body(post.pending_update_html or "")
    post.updates.insert(0, update)
    post.pending_update_state = post.pending_update_html = None
    post.updated_at = now
    if post.is_visible(now):
        announce(post, update)
    db.session.commit()
    flash(f"Update added to “{post.title}”: {update.state.value}."
          + ("" if post.is_visible(now) else " The post itself is still a draft."))
    return redirect(url_for("admin.dashboard"))


@bp.post("/dashboard/posts/<int:post_id>/suggested-update/dismiss")
def dismiss_suggested_update(post_id: int):
    """Throw away the update the runner suggested."""
    post = _post_with_suggestion(post_id)
    post.pending_update_state = post.pending_update_html = None
    db.session.commit()
    flash(f"The suggested update on “{post.title}” is dismissed.")
    return redirect(url_for("admin.dashboard"))
