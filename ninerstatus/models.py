"""The site's data: posts, tags, servers and staff accounts (SQLAlchemy 2 typed models).

The schema itself comes only from ``migrations/``; these classes describe it
for the code, and a test proves the two agree.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text, and_, or_, select
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .columns import StoredEnum, enum_column
from .extensions import db
from .markup import html_to_text, make_excerpt, sanitise_html
from .timeutil import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .checks.models import Check


# Pinned so a library upgrade never silently changes how new passwords are
# hashed. Each hash records its own parameters, so raising them later keeps
# existing passwords working. N=2**15 keeps a sign-in near 0.1 s on two cores.
PASSWORD_METHOD = "scrypt:32768:8:1"


class PostStatus(str, enum.Enum):
    """Where a post is in its life; only the last two ever reach visitors."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"


class PostKind(str, enum.Enum):
    """What a post announces; incidents and maintenance are treated differently later."""

    INCIDENT = "incident"
    MAINTENANCE = "maintenance"
    NOTICE = "notice"


class Visibility(str, enum.Enum):
    """Whether visitors see a server's live status or only that it is internal."""

    PUBLIC = "public"
    INTERNAL = "internal"


class UpdateState(str, enum.Enum):
    """Where an incident stands, as told by each of its timestamped updates."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class IncidentImpact(str, enum.Enum):
    """How bad an incident is for customers, as staff judge it (Statuspage's impact levels), mildest first."""

    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class AffectedState(str, enum.Enum):
    """The state an open incident holds its servers in at least, whatever the probes say; mildest first."""

    DEGRADED = "degraded"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"


class Role(str, enum.Enum):
    """Staff roles: admins run the site, editors write posts."""

    ADMIN = "admin"
    EDITOR = "editor"


# A stored value that names no member (typed into the database by hand, say) is read as
# the member the SQL conditions already treat it like: a post no visitor sees, a server
# that is not public, neither incident nor maintenance, an incident not yet resolved, an
# account without admin rights, an incident's declared impact and server state as the mildest
# it could have meant. (See columns.py.)


def visible_now() -> datetime:
    """The moment visitors' pages are drawn at: what ``Post.visible_clause`` takes when given no time.

    A statement built once with a bound ``now`` is sent with this value, so
    it shows the very posts the clause built at that moment would.
    """
    return utcnow()


post_tags = Table(
    "post_tags",
    db.metadata,
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

post_servers = Table(
    "post_servers",
    db.metadata,
    Column("post_id", Integer, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("server_id", Integer, ForeignKey("servers.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(UserMixin, db.Model):
    """A staff account."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = enum_column(Role, Role.EDITOR, unknown=Role.EDITOR)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bumped at sign-out and password change; sessions carrying an older value are void.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    posts: Mapped[list[Post]] = relationship(back_populates="author")

    def set_password(self, password: str) -> None:
        """Store a salted scrypt hash of ``password``, taken exactly as typed."""
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        """True when ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """The identity kept in sessions and remember-me cookies: id and session version.

        Carrying the version means that bumping it voids every session and
        cookie issued before, on every device.
        """
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        """True for accounts that may run the site, not only write posts."""
        return self.role is Role.ADMIN

    @property
    def display_name(self) -> str:
        """The name shown to other staff, or the e-mail address when there is none."""
        return self.name or self.email

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class Server(db.Model):
    """A machine listed under "Systems at a Glance"."""

    __tablename__ = "servers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    role: Mapped[str] = mapped_column(String(80), default="")
    city: Mapped[str] = mapped_column(String(80), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    visibility: Mapped[Visibility] = enum_column(Visibility, Visibility.PUBLIC, unknown=Visibility.INTERNAL)
    display_order: Mapped[int] = mapped_column(default=0)
    notes: Mapped[str] = mapped_column(Text, default="")

    # The server's confirmed state as the probe runner last worked it out (a Status
    # name in lower case, "partial_outage" or "maintenance": see checks.status.RECORDED),
    # since when, and the incident post the runner drafted for the current trouble.
    state: Mapped[str] = mapped_column(String(16), default="unknown")
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    incident_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))

    posts: Mapped[list[Post]] = relationship(secondary=post_servers, back_populates="servers")
    incident_post: Mapped[Post | None] = relationship(foreign_keys=[incident_post_id])
    # Declared here and on Check alike (not as a backref, which exists only once the mappers
    # are configured), so ``Server.checks`` works in a query built before any other.
    checks: Mapped[list[Check]] = relationship(back_populates="server", cascade="all, delete-orphan",
                                               passive_deletes=True, order_by="(Check.display_order, Check.id)")

    @property
    def is_public(self) -> bool:
        """True when visitors may see this server's live state."""
        return self.visibility is Visibility.PUBLIC

    @property
    def place(self) -> str:
        """City and country as one phrase, skipping whichever is missing."""
        return ", ".join(part for part in (self.city, self.country) if part)

    def __repr__(self) -> str:
        return f"<Server {self.code}>"


class Tag(db.Model):
    """A topic label on posts (mail, dns, migration...)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    posts: Mapped[list[Post]] = relationship(secondary=post_tags, back_populates="tags")

    def __repr__(self) -> str:
        return f"<Tag {self.name}>"


class Post(db.Model):
    """An incident report, maintenance notice or other update written by staff."""

    __tablename__ = "posts"
    # Every list, count and tag cloud visitors see filters on visibility (status and publication time),
    # the summary on kind too: all three in one index, so those reads never touch the rows themselves.
    __table_args__ = (Index("ix_posts_visible", "published_at", "status", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # The permalink: fixed once the post has been published; only an unseen
    # draft's address still follows its title.
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    # Always sanitised HTML (see markup.py) by the time it is stored.
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The body's plain text, kept beside it so search matches words, not markup.
    body_text: Mapped[str] = mapped_column(Text, default="")
    excerpt: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[PostKind] = enum_column(PostKind, PostKind.NOTICE, unknown=PostKind.NOTICE)
    status: Mapped[PostStatus] = enum_column(PostStatus, PostStatus.DRAFT, unknown=PostStatus.DRAFT)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A maintenance post's window: its servers are under maintenance in between.
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "staff", or "probe" for an incident the runner drafted.
    origin: Mapped[str] = mapped_column(String(16), default="staff")
    # An update the runner suggests (e.g. "resolved" on recovery); it reaches
    # visitors only once staff publish it as a PostUpdate.
    pending_update_state: Mapped[str | None] = mapped_column(String(16))
    pending_update_html: Mapped[str | None] = mapped_column(Text)
    # A probe draft's fingerprint of the words the runner last gave it (see runner/redrafting.py):
    # while the draft still matches it, staff have not edited it and the runner may reword it.
    drafted_digest: Mapped[str | None] = mapped_column(String(64))
    # An incident's impact and the state it holds its servers in while it is open, both
    # chosen by staff; None when not declared (posts from before they could be, notices).
    impact: Mapped[IncidentImpact | None] = mapped_column(
        StoredEnum(IncidentImpact, IncidentImpact.MINOR), nullable=True)
    affected_state: Mapped[AffectedState | None] = mapped_column(
        StoredEnum(AffectedState, AffectedState.DEGRADED), nullable=True)

    author: Mapped[User | None] = relationship(back_populates="posts")
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, back_populates="posts",
                                           order_by="Tag.name")
    servers: Mapped[list[Server]] = relationship(secondary=post_servers, back_populates="posts",
                                                 order_by="Server.display_order, Server.code")
    # Loaded with the post: every page that shows a post shows its timeline too.
    updates: Mapped[list[PostUpdate]] = relationship(
        back_populates="post", cascade="all, delete-orphan", lazy="selectin",
        order_by="(PostUpdate.created_at.desc(), PostUpdate.id.desc())")
    revisions: Mapped[list[PostRevision]] = relationship(
        back_populates="post", cascade="all, delete-orphan",
        order_by="(PostRevision.created_at.desc(), PostRevision.id.desc())")

    def set_body(self, raw_html: str, site_host: str | None = None) -> None:
        """Store ``raw_html`` sanitised, with its plain text and excerpt derived from it."""
        self.body_html = sanitise_html(raw_html, site_host=site_host)
        self.body_text = html_to_text(self.body_html)
        self.excerpt = make_excerpt(self.body_html)

    @classmethod
    def visible_clause(cls, now: datetime | None = None):
        """SQL condition for posts a visitor may see at ``now``.

        A scheduled post becomes visible by itself once its time has come, so
        no background job has to flip its status first. ``now`` may be a bound
        parameter, for a statement built once and sent with each request's time.
        """
        if now is None:
            now = utcnow()
        return and_(
            or_(cls.status == PostStatus.PUBLISHED, cls.status == PostStatus.SCHEDULED),
            cls.published_at.is_not(None),
            cls.published_at <= now,
        )

    @classmethod
    def visible(cls, now: datetime | None = None):
        """A select of the visible posts, newest first."""
        return (select(cls).where(cls.visible_clause(now))
                .order_by(cls.published_at.desc(), cls.id.desc()))

    @classmethod
    def announced_window_clause(cls, now: datetime):
        """SQL condition for published maintenance posts whose window is ahead of or around ``now``."""
        return and_(cls.kind == PostKind.MAINTENANCE, cls.visible_clause(now), cls.starts_at.is_not(None),
                    cls.ends_at > now, cls.ends_at > cls.starts_at)

    def is_visible(self, now: datetime | None = None) -> bool:
        """True when a visitor may see this post at ``now``."""
        now = now or utcnow()
        return (self.status in (PostStatus.PUBLISHED, PostStatus.SCHEDULED)
                and self.published_at is not None and self.published_at <= now)

    def __repr__(self) -> str:
        return f"<Post {self.slug}>"


class PostUpdate(db.Model):
    """A timestamped update to an incident: its state then and what staff said."""

    __tablename__ = "post_updates"
    # An incident is open while its newest update is not "resolved" (incident_floors.py): this index
    # finds each post's newest update and its state without a sort or a read of the row.
    __table_args__ = (Index("ix_post_updates_latest", "post_id", "created_at", "id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    state: Mapped[UpdateState] = enum_column(UpdateState, UpdateState.INVESTIGATING,
                                            unknown=UpdateState.INVESTIGATING)
    # Sanitised like a post body (see markup.py).
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()

    def set_body(self, raw_html: str, site_host: str | None = None) -> None:
        """Store ``raw_html`` sanitised."""
        self.body_html = sanitise_html(raw_html, site_host=site_host)

    def __repr__(self) -> str:
        return f"<PostUpdate {self.state.value} on post {self.post_id}>"


class PostRevision(db.Model):
    """A post's title and body as one save left them, so an earlier text can be restored."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body_html: Mapped[str] = mapped_column(Text, default="")
    # What made this revision, e.g. "restored from the revision of 18 August".
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    post: Mapped[Post] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<PostRevision {self.id} of post {self.post_id}>"


class LoginAttempt(db.Model):
    """A failed or still running sign-in, counted per account and per client network.

    Kept in the database so every worker process sees the same count; rows
    older than the throttling window no longer count and are purged.
    """

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The e-mail address as typed (lowercased), whether or not an account has it.
    account: Mapped[str] = mapped_column(String(254), index=True)
    # The client's address, or its /64 network for IPv6.
    address: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<LoginAttempt {self.account} from {self.address}>"
