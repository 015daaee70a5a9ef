"""Tags: rename, merge one into another, delete (posts always stay)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from wtforms import SelectChoice

from ..extensions import db
from ..models import Tag, post_tags
from . import bp
from .contention import retries_lost_races
from .errors import redisplays_form
from .forms import TagForm, TagMergeForm, tag_key


def tag_or_404(tag_id: int) -> Tag:
    """The tag with ``tag_id``."""
    return db.session.get(Tag, tag_id) or abort(404, description="There is no such tag.")


def merge_form(tag: Tag) -> TagMergeForm:
    """The merge form, offering every other tag as the target."""
    form = TagMergeForm()
    form.target.choices = [SelectChoice(t.id, t.name) for t in db.session.scalars(
        select(Tag).where(Tag.id != tag.id).order_by(func.lower(Tag.name)))]
    return form


def _clash(form: TagForm, tag: Tag) -> bool:
    """Record on the form, and report, a name or address another tag already has.

    Names are compared the way tags are told apart everywhere: tidy, ignoring case.
    """
    other_names = db.session.scalars(select(Tag.name).where(Tag.id != tag.id))
    if tag_key(form.name.data) in {tag_key(name) for name in other_names}:
        form.name.errors.append("Another tag has this name: merge into it instead.")
    if db.session.scalar(select(Tag).where(Tag.id != tag.id, Tag.slug == form.slug.data)):
        form.slug.errors.append("Another tag has this address.")
    return bool(form.name.errors or form.slug.errors)


@bp.get("/tags")
def tags():
    """Every tag with its number of posts (drafts included)."""
    count = func.count(post_tags.c.post_id)
    rows = db.session.execute(select(Tag, count).outerjoin(post_tags, post_tags.c.tag_id == Tag.id)
                              .group_by(Tag.id).order_by(func.lower(Tag.name))).all()
    return render_template("admin/tags/list.html", rows=rows)


@bp.route("/tags/<int:tag_id>", methods=["GET", "POST"])
@redisplays_form
def edit_tag(tag_id: int):
    """Rename a tag or change its address."""
    tag = tag_or_404(tag_id)
    form = TagForm(obj=tag)
    if form.validate_on_submit() and not _clash(form, tag):
        tag.name, tag.slug = form.name.data, form.slug.data
        db.session.commit()
        flash(f"Tag “{tag.name}” is saved.")
        return redirect(url_for("admin.tags"))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/tags/edit.html", tag=tag, form=form, merge=merge_form(tag)), status


@bp.post("/tags/<int:tag_id>/merge")
@retries_lost_races
def merge_tag(tag_id: int):
    """Move every post of a tag to another tag, then delete the first."""
    tag = tag_or_404(tag_id)
    form = merge_form(tag)
    if not form.validate_on_submit():
        abort(400, description="Choose the tag to merge into.")
    target = tag_or_404(form.target.data)
    for post in list(tag.posts):
        if target not in post.tags:
            post.tags.append(target)
    name = tag.name
    db.session.delete(tag)
    db.session.commit()
    flash(f"Tag “{name}” is merged into “{target.name}”.")
    return redirect(url_for("admin.tags"))


@bp.route("/tags/<int:tag_id>/delete", methods=["GET", "POST"])
def delete_tag(tag_id: int):
    """Delete a tag after asking; its posts stay, without it."""
    tag = tag_or_404(tag_id)
    if request.method == "GET":
        return render_template("admin/tags/delete.html", tag=tag, posts=len(tag.posts))
    name = tag.name
    db.session.delete(tag)
    db.session.commit()
    flash(f"Tag “{name}” is deleted; its posts are kept.")
    return redirect(url_for("admin.tags"))
