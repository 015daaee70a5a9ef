"""Writing posts: the list with its filters, the editor, preview, autosave and deletion."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from ..api.statuspage import incident_status
from ..extensions import db
from ..models import Post, PostKind, PostStatus, Server, Tag
from ..public.pagination import paginate
from ..public.views import like_pattern, search_words
from ..subscriptions.fanout import announce_save
from ..incident_floors import open_incident_clause
from ..site_status import incident_is_open
from ..timeutil import utcnow
from . import bp
from .contention import retries_lost_races
from .editing import (PUBLISH, SAVE_DRAFT, apply_action, chosen_state, existing_tag_names, fill_post, next_state,
                      post_form, post_state, preview_post, publishing_error, record_incident_state, record_revision,
                      reported_state, timeline_moved_on)
from .errors import redisplays_form
from .findings import post_findings
from .forms import IMPACT_HELP, UpdateForm

POSTS_PER_PAGE = 25
#: The list's status filter: each value with its label.
STATE_FILTERS = {"draft": "Draft", "scheduled": "Scheduled", "published": "Published", "open": "Open incidents"}


def post_or_404(post_id: int) -> Post:
    """The post with ``post_id``, drafts included."""
    return db.session.get(Post, post_id) or abort(404, description="There is no post with that number.")


def filtered_posts(args):
    """A select of every post matching the list's filters, newest first."""
    now = utcnow()
    statement = select(Post).order_by(Post.published_at.desc().nulls_first(), Post.updated_at.desc(),
                                      Post.id.desc())
    state = args.get("status")
    if state == "published":
        statement = statement.where(Post.visible_clause(now))
    elif state == "scheduled":
        statement = statement.where(Post.status == PostStatus.SCHEDULED, Post.published_at > now)
    elif state == "draft":
        statement = statement.where(Post.status == PostStatus.DRAFT)
    elif state == "open":
        statement = statement.where(open_incident_clause(now))
    if args.get("tag"):
        statement = statement.where(Post.tags.any(Tag.slug == args["tag"]))
    if args.get("server"):
        statement = statement.where(Post.servers.any(Server.code == args["server"]))
    query = search_words(args)[:current_app.config["SEARCH_MAX_LENGTH"]]
    if query:
        pattern = like_pattern(query)
        statement = statement.where(or_(Post.title.ilike(pattern, escape="\\"),
                                        Post.body_text.ilike(pattern, escape="\\")))
    return statement


@bp.get("/")
def index():
    """The staff pages start at the dashboard: what needs a person now."""
    return redirect(url_for("admin.dashboard"))


@bp.get("/posts")
def posts():
    """Every post, drafts and scheduled ones included, with filters and search.

    The authors, tags and servers each row shows are loaded for the whole page at once, not per post.
    """
    listed = filtered_posts(request.args).options(selectinload(Post.author), selectinload(Post.tags),
                                                  selectinload(Post.servers))
    page = paginate(listed, POSTS_PER_PAGE)
    filters = {key: value for key, value in request.args.items() if key not in ("page", "q") and value}
    if search_words(request.args):
        filters["q"] = search_words(request.args)
    return render_template("admin/posts/list.html", page=page, states=STATE_FILTERS,
                           tags=db.session.scalars(select(Tag).order_by(Tag.name)).all(),
                           servers=db.session.scalars(select(Server).order_by(Server.display_order,
                                                                              Server.code)).all(),
                           post_state=post_state, incident_is_open=incident_is_open, filters=filters)


def _editor(form, post: Post | None, message: str | None = None, status: int = 200):
    now = utcnow()
    incident = post is not None and post.kind is PostKind.INCIDENT
    return render_template("admin/posts/edit.html", form=form, post=post, message=message,
                           tag_names=existing_tag_names(),
                           update_form=UpdateForm(formdata=None, state=next_state(post).value),
                           state=post_state(post) if post is not None else "draft",
                           findings=post_findings(post, now) if incident else [],
                           reported_as=incident_status(post) if incident else None,
                           impact_help={impact.value: text for impact, text in IMPACT_HELP.items()},
                           now_utc=f"{now:%Y-%m-%d %H:%M}"), status


def _save(form, post: Post | None):
    """Validate and save the editor's form, or show it again with what went wrong."""
    action = request.form.get("action", SAVE_DRAFT)
    now = utcnow()
    if not form.validate_on_submit():
        return _editor(form, post, status=400)
    problem = publishing_error(form, action, now)
    if problem:
        return _editor(form, post, message=problem, status=400)
    author = current_user._get_current_object()
    was = reported_state(post)
    was_visible = post is not None and post.is_visible(now)
    post = fill_post(post, form, author)
    apply_action(post, action, form, now)
    update = record_incident_state(post, form, was, now, author)
    record_revision(post, author)
    if action != SAVE_DRAFT and not form.quiet.data:
        announce_save(post, update, was_visible)
    db.session.commit()
    state = post_state(post, now)
    flash(f"“{post.title}” is {'saved as a draft' if state == 'draft' else state}."
          + (" Visitors can read it now." if action == PUBLISH else "")
          + (f" Its timeline now says “{update.state.value.capitalize()}”." if update else "")
          + _stale_state_note(form, post))
    return redirect(url_for("admin.edit_post", post_id=post.id))


def _stale_state_note(form, post: Post) -> str:
    """What to tell staff whose state choice was left out because the timeline changed meanwhile."""
    if post.kind is not PostKind.INCIDENT or not timeline_moved_on(form, post):
        return ""
    now_says = reported_state(post)
    if chosen_state(form) is now_says and not (form.state_note.data or "").strip():
        return ""
    says = f"it now says “{now_says.value.capitalize()}”" if now_says else "it has no updates now"
    return (f" Its timeline changed while you were editing ({says}), so the "
            "state and note you chose were not added: check them and save again if they still apply.")


@bp.route("/posts/new", methods=["GET", "POST"])
@redisplays_form
def new_post():
    """Write a new post."""
    form = post_form()
    if request.method == "GET":
        return _editor(form, None)
    return _save(form, None)


@bp.route("/posts/<int:post_id>", methods=["GET", "POST"])
@redisplays_form
def edit_post(post_id: int):
    """Edit a post; saving keeps the earlier text as a revision."""
    post = post_or_404(post_id)
    form = post_form(post)
    if request.method == "GET":
        return _editor(form, post)
    return _save(form, post)


@bp.post("/posts/preview")
@bp.post("/posts/<int:post_id>/preview")
def preview(post_id: int | None = None):
    """Show the editor's content exactly as visitors will see it, without saving it."""
    post = post_or_404(post_id) if post_id is not None else None
    form = post_form(post)
    return render_template("admin/posts/preview.html", post=preview_post(form, post))


@bp.post("/posts/autosave")
@bp.post("/posts/<int:post_id>/autosave")
@retries_lost_races
def autosave(post_id: int | None = None):
    """Save a draft's text in the background while it is being written."""
    post = post_or_404(post_id) if post_id is not None else None
    if post is not None and post.status is not PostStatus.DRAFT:
        return {"error": "Only drafts are saved automatically; use the buttons to save this post."}, 409
    form = post_form(post)
    form.validate()
    # A draft may have no title yet; every other rule holds.
    errors = {name: messages for name, messages in form.errors.items()
              if name != "title" or (form.title.data or "").strip()}
    if errors:
        return {"error": "Not saved: " + " ".join(m for ms in errors.values() for m in ms)}, 400
    post = fill_post(post, form, current_user._get_current_object())
    db.session.commit()
    return {
        "saved_at": utcnow().isoformat(timespec="seconds"),
        "edit_url": url_for("admin.edit_post", post_id=post.id),
        "autosave_url": url_for("admin.autosave", post_id=post.id),
        "preview_url": url_for("admin.preview", post_id=post.id),
        # A fresh token, so a page left open for hours can still be saved.
        "csrf_token": generate_csrf(),
    }


@bp.route("/posts/<int:post_id>/delete", methods=["GET", "POST"])
def delete_post(post_id: int):
    """Delete a post with its updates and revisions, after asking."""
    post = post_or_404(post_id)
    if request.method == "GET":
        return render_template("admin/posts/delete.html", post=post)
    title = post.title
    db.session.delete(post)
    db.session.commit()
    flash(f"“{title}” is deleted.")
    return redirect(url_for("admin.posts"))
