"""Incident updates: timestamped entries on a post's timeline, newest first."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..models import PostUpdate, UpdateState
from ..runner.incidents import standard_update_html
from ..subscriptions.fanout import announce
from ..timeutil import utcnow
from . import bp
from .editing import next_state, site_host
from .errors import redisplays_form
from .forms import UpdateForm
from .posts import post_or_404


@bp.route("/posts/<int:post_id>/updates", methods=["GET", "POST"])
@redisplays_form
def add_update(post_id: int):
    """Add an update to a post's timeline (``?state=resolved`` starts from that state and its standard text)."""
    post = post_or_404(post_id)
    form = UpdateForm()
    if request.method == "GET":
        form.state.data = next_state(post).value
    if request.method == "GET" and request.args.get("state") in {state.value for state in UpdateState}:
        # A starting point staff may reword: the standard sentence for that state.
        form.state.data = request.args["state"]
        form.body.data = standard_update_html(post, UpdateState(form.state.data))
    if not form.validate_on_submit():
        return render_template("admin/posts/update.html", post=post, form=form), 400 if form.errors else 200
    now = utcnow()
    update = PostUpdate(state=UpdateState(form.state.data), author=current_user._get_current_object(),
                        created_at=now)
    update.set_body(form.body.data, site_host=site_host())
    post.updates.insert(0, update)
    # Feed readers look at the post's updated time to notice the change.
    post.updated_at = now
    if post.is_visible(now) and not form.quiet.data:
        announce(post, update)
    db.session.commit()
    flash(f"Update added to “{post.title}”: {update.state.value}.")
    return redirect(url_for("admin.edit_post", post_id=post.id) + "#timeline")


@bp.post("/posts/<int:post_id>/updates/<int:update_id>/delete")
def delete_update(post_id: int, update_id: int):
    """Remove an update from a post's timeline."""
    post = post_or_404(post_id)
    update = db.session.get(PostUpdate, update_id)
    if update is None or update.post_id != post.id:
        abort(404, description="That post has no such update.")
    db.session.delete(update)
    post.updated_at = utcnow()
    db.session.commit()
    flash("The update is removed from the timeline.")
    return redirect(url_for("admin.edit_post", post_id=post.id) + "#timeline")
