"""Earlier versions of a post: every save keeps one, and an admin may restore it."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..accounts.roles import admin_required
from ..extensions import db
from ..models import PostRevision
from ..timeutil import format_timestamp
from . import bp
from .editing import record_revision, site_host
from .posts import post_or_404


def revision_or_404(post_id: int, revision_id: int) -> PostRevision:
    """The revision ``revision_id`` of post ``post_id``."""
    revision = db.session.get(PostRevision, revision_id)
    if revision is None or revision.post_id != post_id:
        abort(404, description="That post has no such revision.")
    return revision


@bp.get("/posts/<int:post_id>/revisions")
@admin_required
def revisions(post_id: int):
    """Every saved version of a post, newest first."""
    return render_template("admin/revisions/list.html", post=post_or_404(post_id))


@bp.get("/posts/<int:post_id>/revisions/<int:revision_id>")
@admin_required
def revision(post_id: int, revision_id: int):
    """One earlier version of a post, as it was saved."""
    return render_template("admin/revisions/show.html", post=post_or_404(post_id),
                           revision=revision_or_404(post_id, revision_id))


@bp.post("/posts/<int:post_id>/revisions/<int:revision_id>/restore")
@admin_required
def restore_revision(post_id: int, revision_id: int):
    """Put an earlier title and text back; the text replaced is kept as a revision too."""
    post = post_or_404(post_id)
    old = revision_or_404(post_id, revision_id)
    record_revision(post, current_user._get_current_object())
    post.title = old.title
    post.set_body(old.body_html, site_host=site_host())
    record_revision(post, current_user._get_current_object(),
                    note=f"Restored from the version of {format_timestamp(old.created_at)}")
    db.session.commit()
    flash(f"The version of {format_timestamp(old.created_at)} is restored.")
    return redirect(url_for("admin.edit_post", post_id=post.id))
