"""Earlier versions of a post: every save keeps one, an admin sees what each changed and may restore it."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..accounts.roles import admin_required
from ..extensions import db
from ..models import Post, PostRevision
from ..timeutil import format_timestamp
from . import bp
from .diffs import diff_html, diff_text
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


def changes(old_title: str, old_html: str, new_title: str, new_html: str) -> dict:
    """The title's and the body's diffs from one version to another."""
    return {"title": diff_text(old_title, new_title), "body": diff_html(old_html, new_html)}


def version_before(post: Post, revision: PostRevision) -> PostRevision | None:
    """The revision saved just before ``revision`` (revisions are loaded newest first)."""
    older = post.revisions[post.revisions.index(revision) + 1:]
    return older[0] if older else None


@bp.get("/posts/<int:post_id>/revisions/<int:revision_id>")
@admin_required
def revision(post_id: int, revision_id: int):
    """One earlier version of a post: what it changed, how it differs from the current text, and as it was."""
    post = post_or_404(post_id)
    revision = revision_or_404(post_id, revision_id)
    before = version_before(post, revision)
    return render_template(
        "admin/revisions/show.html", post=post, revision=revision, before=before,
        from_before=changes(before.title, before.body_html, revision.title, revision.body_html) if before else None,
        to_current=changes(revision.title, revision.body_html, post.title, post.body_html))


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
