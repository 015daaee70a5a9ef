"""Turning the post form into a post: tags, servers, publishing state and revisions.

Shared by saving, autosaving and previewing so the three can never disagree
about what a form means.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import request
from markupsafe import Markup, escape
from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from wtforms import SelectChoice

from ..extensions import db
from ..markup import make_excerpt, sanitise_html
from ..models import (AffectedState, IncidentImpact, Post, PostKind, PostRevision, PostStatus, PostUpdate, Server,
                      Tag, UpdateState, User)
from ..runner.incidents import standard_update_html
from ..slugs import slugify, unique_slug
from ..timeutil import utcnow
from .forms import NO_CHANGE, PostForm, parse_tag_names, tag_key

# What the buttons of the post form ask for.
SAVE_DRAFT, PUBLISH, SCHEDULE = "draft", "publish", "schedule"
ACTIONS = (SAVE_DRAFT, PUBLISH, SCHEDULE)


def site_host() -> str:
    """This site's host name, whose links are not marked as leaving the site."""
    return request.host.split(":")[0]


def server_choices() -> list[SelectChoice]:
    """Every server as a checkbox choice, in sidebar order."""
    servers = db.session.scalars(select(Server).order_by(Server.display_order, Server.code))
    return [SelectChoice(s.id, f"{s.code} ({s.role})" if s.role else s.code) for s in servers]


def existing_tag_names() -> list[str]:
    """Names of every tag, for the editor's list of tags to pick from."""
    return list(db.session.scalars(select(Tag.name).order_by(func.lower(Tag.name))))


def reported_state(post: Post | None) -> UpdateState | None:
    """The state visitors read an incident in now: its newest update's, "resolved" when out without any.

    None for a post nobody has seen that has no updates yet: it has no state to change from.
    """
    if post is None:
        return None
    if post.updates:
        return post.updates[0].state
    return UpdateState.RESOLVED if post.is_visible() else None


#: The state an incident usually moves to from each state, offered first for its next update.
NEXT_STATES = {UpdateState.INVESTIGATING: UpdateState.IDENTIFIED, UpdateState.IDENTIFIED: UpdateState.MONITORING,
               UpdateState.MONITORING: UpdateState.RESOLVED}


def next_state(post: Post | None) -> UpdateState:
    """The state offered first for a post's next update: the step after its newest one, else investigating."""
    latest = post.updates[0].state if post is not None and post.updates else None
    return NEXT_STATES.get(latest, UpdateState.INVESTIGATING)


def incident_choices(post: Post | None) -> dict[str, str]:
    """The incident fields as ``post`` stands: its state, its impact and what it does to its servers.

    A request that leaves one of them out keeps what the post has, so an
    older form or a script never changes an incident by omission.
    """
    state = reported_state(post) or UpdateState.INVESTIGATING
    impact = post.impact if post is not None and post.impact else IncidentImpact.MINOR
    affected = post.affected_state if post is not None else None
    return {"incident_state": state.value, "impact": impact.value,
            "affected_state": affected.value if affected else NO_CHANGE, "timeline_seen": timeline_mark(post)}


def timeline_mark(post: Post | None) -> str:
    """What identifies the timeline as it stands: its newest update's number, empty when it has none."""
    return str(post.updates[0].id) if post is not None and post.updates and post.updates[0].id else ""


def post_form(post: Post | None = None) -> PostForm:
    """The post form, filled from the request when one was sent, else from ``post``."""
    if request.form:
        form = PostForm(data=incident_choices(post))
    else:
        form = PostForm(obj=post) if post is not None else PostForm()
    form.servers.choices = server_choices()
    if post is not None and not request.form:
        # Set by hand: the post's enum attributes are not the form's string values.
        for name, value in incident_choices(post).items():
            form[name].data = value
        form.tags.data = ", ".join(t.name for t in post.tags)
        form.servers.data = [s.id for s in post.servers]
        form.kind.data = post.kind.value
        form.body.data = post.body_html
        form.publish_at.data = post.published_at.replace(tzinfo=None) if post.published_at else None
        form.starts_at.data = post.starts_at.replace(tzinfo=None) if post.starts_at else None
        form.ends_at.data = post.ends_at.replace(tzinfo=None) if post.ends_at else None
    return form


def tags_by_key() -> dict[str, Tag]:
    """Every tag under its ``tag_key``: its tidy name, ignoring case."""
    tags: dict[str, Tag] = {}
    for tag in db.session.scalars(select(Tag).order_by(Tag.id)):
        tags.setdefault(tag_key(tag.name), tag)
    return tags


def find_tags(names: list[str], create: bool) -> list[Tag]:
    """The tags called ``names`` (tidy, ignoring case); missing ones are made, and stored when ``create``.

    Two saves naming the same new tag at once share one tag: the second one's
    insert gives way to the first one's row. Two spellings of it at once
    ("Backup", "backup") want the same address, so the second save loses that
    race and is run again (see contention.py), finding the first one's tag.
    """
    known = tags_by_key()
    if not create:
        return [known.get(tag_key(name)) or Tag(name=name, slug=slugify(name)) for name in names]
    # One order for every save, so two saves never each wait for the other's new tag.
    new = sorted((name for name in names if tag_key(name) not in known), key=tag_key)
    for name in new:
        _store_tag(name)
    if new:
        known = tags_by_key()
    return [known[tag_key(name)] for name in names]


def _store_tag(name: str) -> None:
    """Store a new tag called ``name``, unless a save running beside this one stored it first."""
    # A save beside this one may have committed another spelling of it ("Backup" for "BACKUP")
    # since this one read the tags: its address is then ours or ours with a suffix, and its tag is ours.
    base = unique_slug(name, lambda _slug: False)
    namesakes = db.session.scalars(select(Tag.name).where(or_(Tag.slug == base, Tag.slug.startswith(f"{base}-"))))
    if any(tag_key(other) == tag_key(name) for other in namesakes):
        return
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    db.session.execute(insert(Tag).values(name=name, slug=unique_slug(name, _tag_slug_taken))
                       .on_conflict_do_nothing(index_elements=[Tag.name]))


def _tag_slug_taken(slug: str) -> bool:
    return db.session.scalar(select(func.count()).where(Tag.slug == slug)) > 0


def chosen_servers(form: PostForm) -> list[Server]:
    """The servers ticked in the form."""
    ids = form.servers.data or []
    return list(db.session.scalars(select(Server).where(Server.id.in_(ids)))) if ids else []


def as_utc(moment: datetime | None) -> datetime | None:
    """One of the form's naive date-time values, which the form labels as UTC."""
    return moment.replace(tzinfo=timezone.utc) if moment else None


def maintenance_window(form: PostForm) -> tuple[datetime | None, datetime | None]:
    """The window's start and end in UTC; none unless the post is about maintenance."""
    if form_kind(form) is not PostKind.MAINTENANCE:
        return None, None
    return as_utc(form.starts_at.data), as_utc(form.ends_at.data)


def publishing_error(form: PostForm, action: str, now: datetime) -> str | None:
    """Why ``action`` cannot be done with this form, or None when it can."""
    if action not in ACTIONS:
        return "Choose one of the buttons: save as draft, publish now or schedule."
    if action in (PUBLISH, SCHEDULE) and not (form.body.data or "").strip():
        return "Write the post's text before publishing it."
    if action == SCHEDULE:
        when = as_utc(form.publish_at.data)
        if when is None:
            return "Give a date and time (UTC) to schedule the post for."
        if when <= now:
            return "That time has passed: pick a later one, or publish now."
    return None


def form_kind(form: PostForm) -> PostKind:
    """The kind chosen in the form (a notice when the choice is missing)."""
    return PostKind(form.kind.data) if form.kind.data in {k.value for k in PostKind} else PostKind.NOTICE


def fill_post(post: Post | None, form: PostForm, author: User) -> Post:
    """Copy the form's title, text, kind, tags and servers onto ``post``, or a new draft by ``author``.

    Tags named for the first time are created. Returns the post, added to the session.
    """
    title = (form.title.data or "").strip() or "Untitled draft"
    is_new = post is None
    if is_new:
        post = Post(status=PostStatus.DRAFT, slug=_free_slug(title, None))
    elif post.published_at is None and post.title != title:
        # Nobody has seen this post yet, so its address may still follow its title
        # (an autosave may have caught the title half-typed).
        post.slug = _free_slug(title, post)
    post.title = title
    post.set_body(form.body.data or "", site_host=site_host())
    post.kind = form_kind(form)
    post.starts_at, post.ends_at = maintenance_window(form)
    post.impact, post.affected_state = incident_effect(form)
    # Only now, complete, may it join the session: the tag queries below flush it.
    if is_new:
        db.session.add(post)
        post.author = author
    post.tags = find_tags(parse_tag_names(form.tags.data), create=True)
    post.servers = chosen_servers(form)
    return post


def incident_effect(form: PostForm) -> tuple[IncidentImpact | None, AffectedState | None]:
    """The impact and servers' state chosen in the form; none unless the post is an incident."""
    if form_kind(form) is not PostKind.INCIDENT:
        return None, None
    impact = IncidentImpact(form.impact.data) if form.impact.data in {i.value for i in IncidentImpact} else None
    affected = (AffectedState(form.affected_state.data)
                if form.affected_state.data in {a.value for a in AffectedState} else None)
    return impact, affected


def chosen_state(form: PostForm) -> UpdateState:
    """The incident state chosen in the form ("investigating" when the choice is missing)."""
    values = {state.value for state in UpdateState}
    return UpdateState(form.incident_state.data) if form.incident_state.data in values else UpdateState.INVESTIGATING


def note_html(text: str) -> str:
    """Plain text typed as a timeline note, as paragraphs of escaped text (for ``set_body``)."""
    paragraphs = [part.strip() for part in text.replace("\r\n", "\n").split("\n\n") if part.strip()]
    return "".join(f"<p>{Markup('<br>').join(escape(line) for line in part.splitlines())}</p>"
                   for part in paragraphs)


def add_state_update(post: Post, state: UpdateState, body_html: str, now: datetime,
                     author: User | None) -> PostUpdate:
    """Put an update in ``state`` at the top of the post's timeline; a standard sentence when no text is given."""
    update = PostUpdate(state=state, created_at=now, author=author)
    update.set_body(body_html or standard_update_html(post, state), site_host=site_host())
    post.updates.insert(0, update)
    post.updated_at = now
    return update


def record_incident_state(post: Post, form: PostForm, was: UpdateState | None, now: datetime,
                          author: User | None) -> PostUpdate | None:
    """Add a timeline update when the form changes the incident's state or carries a note; None otherwise.

    ``was`` is what the incident read as before this save (``reported_state``).
    Saving again without changing the state or typing a note adds nothing,
    so a plain re-save never repeats an update.
    """
    if post.kind is not PostKind.INCIDENT or timeline_moved_on(form, post):
        return None
    state, note = chosen_state(form), (form.state_note.data or "").strip()
    if state is was and not note:
        return None
    return add_state_update(post, state, note_html(note), now, author)


def timeline_moved_on(form: PostForm, post: Post) -> bool:
    """True when someone added or removed an update since this form was shown: its state choice is stale."""
    return form.timeline_seen.data != timeline_mark(post)


def _free_slug(title: str, post: Post | None) -> str:
    """A slug for ``title`` that no post other than ``post`` has."""
    others = select(func.count()).where(Post.id != post.id) if post is not None else select(func.count())
    return unique_slug(title, lambda slug: db.session.scalar(others.where(Post.slug == slug)) > 0, max_length=200)


def apply_action(post: Post, action: str, form: PostForm | None, now: datetime) -> None:
    """Set the post's status and publication time for the button pressed."""
    if action == SAVE_DRAFT:
        # A post that was out keeps its date: it marks that its address is fixed now.
        if not post.is_visible(now):
            post.published_at = None
        post.status = PostStatus.DRAFT
    elif action == SCHEDULE:
        post.status, post.published_at = PostStatus.SCHEDULED, as_utc(form.publish_at.data)
    else:
        # Updating a post that is already out keeps its original date.
        if not post.is_visible(now):
            post.published_at = now
        post.status = PostStatus.PUBLISHED


def record_revision(post: Post, author: User | None, note: str = "") -> None:
    """Keep the post's current title and body, unless they equal the latest revision."""
    latest = post.revisions[0] if post.revisions else None
    if latest is not None and (latest.title, latest.body_html) == (post.title, post.body_html):
        return
    post.revisions.insert(0, PostRevision(title=post.title, body_html=post.body_html, note=note,
                                          author=author, created_at=utcnow()))


def post_state(post: Post, now: datetime | None = None) -> str:
    """What the post is right now for visitors: draft, scheduled or published."""
    if post.is_visible(now):
        return "published"
    return "scheduled" if post.status is PostStatus.SCHEDULED else "draft"


@dataclass
class PreviewPost:
    """What a post would look like from the form, without saving anything.

    Has exactly the attributes the visitors' templates read from a Post.
    """

    title: str
    slug: str
    kind: PostKind
    body_html: str
    excerpt: str
    published_at: datetime
    tags: list[Tag] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)
    updates: list[PostUpdate] = field(default_factory=list)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def preview_post(form: PostForm, post: Post | None) -> PreviewPost:
    """A PreviewPost of the form's content (unsaved tags included, nothing stored)."""
    body = sanitise_html(form.body.data or "", site_host=site_host())
    title = (form.title.data or "").strip() or "Untitled draft"
    starts_at, ends_at = maintenance_window(form)
    when = (post.published_at if post is not None and post.published_at else None) \
        or as_utc(form.publish_at.data) or utcnow()
    return PreviewPost(title=title, slug=post.slug if post is not None else slugify(title, 200),
                       kind=form_kind(form), body_html=body, excerpt=make_excerpt(body), published_at=when,
                       tags=find_tags(parse_tag_names(form.tags.data), create=False),
                       servers=chosen_servers(form), updates=list(post.updates) if post is not None else [],
                       starts_at=starts_at, ends_at=ends_at)
