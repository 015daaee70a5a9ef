"""Importing a WordPress export: posts, their tags, authors and affected servers, in one transaction.

The export is read as a stream (wxr.py) and each post is written as soon as
it is read, in batches that are then let go of, so memory stays flat however
many posts the file has. Everything happens in one database transaction: a
file found broken halfway (cut short, say) leaves the site exactly as it was,
and a dry run is the same import rolled back at the end.

How WordPress maps onto the site:

- only items of type ``post`` become posts; pages are listed as skipped (the
  site has none), and attachments, menus, templates, block styles, reusable
  blocks and comments are counted as skipped;
- ``publish`` → published, ``future`` → scheduled, ``draft`` → draft;
  ``pending``, ``private`` and password-protected posts become drafts (a
  visitor must never see them), counted; the trash is skipped;
- dates are the GMT ones; the old slug is kept when it is free;
- categories and tags become tags by name (a category's parents are not added:
  the hierarchy is flattened), WordPress's default "Uncategorized" excepted;
- a title that starts with server codes the way the reference site writes them
  ("NC036: ...", "NC031, NC036: ...") links those servers, when they exist, as
  affected servers; such a post is an incident, one that says "maintenance"
  in its title or terms is a maintenance notice, and anything else a notice.

Each imported post is remembered by its export GUID (models.py) with a hash
of what the import made of it: importing the same file again changes nothing,
a post changed in WordPress since is updated, and a post deleted here since
stays deleted.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from flask import current_app
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from ..accounts.credentials import find_account
from ..extensions import db
from ..markup import html_to_text, strip_control_chars
from ..models import Post, PostKind, PostStatus, Server, Tag, User
from ..slugs import unique_slug
from ..timeutil import utcnow
from ..uploads import reencode, store_image, uploads_folder
from .authors import AuthorMap
from .bodies import body_html, excerpt_text
from .images import ImageMover
from .models import ImportedItem, ImportedTerm
from .summary import ImportSummary
from .wxr import KNOWN_VERSIONS, WxrAuthor, WxrError, WxrItem, WxrSite, WxrTerm, read_wxr

#: Posts written between two flushes; each batch is then let go of, which keeps memory flat.
BATCH_SIZE = 200
#: Server codes at the start of a title, before a colon: "NC036: ...", "NC031, NC036: ...", "NC031 & NC036: ...".
_TITLE_SERVERS = re.compile(r"\A\s*((?:[A-Za-z]{1,8}\d{1,6})(?:\s*(?:,|&|/|\band\b)\s*[A-Za-z]{1,8}\d{1,6})*)\s*:")
_SERVER_CODE = re.compile(r"[A-Za-z]{1,8}\d{1,6}")
_TAG_TAXONOMIES = ("category", "post_tag")
#: WordPress puts every post without a category in this one; it says nothing about the post.
_DEFAULT_CATEGORY = "uncategorized"
_DRAFT_REASONS = {"private": "private", "pending": "pending review"}
_STATUSES = {"publish": PostStatus.PUBLISHED, "future": PostStatus.SCHEDULED, "draft": PostStatus.DRAFT}
_MAX_GUID = 500
#: Changes when the way items are converted changes, so that the next import converts them all again.
CONVERSION = 1


class ImportRefused(Exception):
    """The export could not be read, so nothing was imported; ``str()`` says why (and where)."""


class UnknownAuthor(ValueError):
    """``--author`` names an address no account has."""


class ImportConflict(Exception):
    """Another import (or staff) saved the same posts or tags meanwhile; nothing of this one was kept."""


@dataclass(frozen=True)
class ImportOptions:
    """How to import: only count (``dry_run``), every post to one account, images from a local uploads folder."""

    dry_run: bool = False
    #: The address of an existing account, or None to map authors by e-mail.
    author_email: str | None = None
    uploads: Path | None = None


def import_wordpress(source: str | Path | BinaryIO, options: ImportOptions) -> ImportSummary:
    """Import the export at ``source`` (a path or a binary file) into the site, or only count with ``dry_run``.

    Runs in the current application context, in one transaction. Raises
    ``ImportRefused`` for a file that cannot be read, ``ImportConflict`` when
    another import raced this one, ``UnknownAuthor`` when ``author_email``
    has no account; either way nothing is kept.
    """
    author_id = None
    if options.author_email is not None:
        author = find_account(options.author_email)
        if author is None:
            raise UnknownAuthor(f"no account has the address {options.author_email}")
        author_id = author.id
    summary = ImportSummary(dry_run=options.dry_run)
    # Whatever this session read before belongs to an earlier transaction. On SQLite the write lock
    # is taken now, so what the import reads first still holds when it writes (see runner/transactions.py).
    db.session.rollback()
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(text("BEGIN IMMEDIATE"))
    try:
        importer = _Importer(summary, options, db.session.get(User, author_id) if author_id else None)
        for record in read_wxr(str(source) if isinstance(source, Path) else source):
            importer.take(record)
        db.session.flush()
    except (WxrError, OSError) as error:
        db.session.rollback()
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ImportRefused(f"The file could not be read ({reason}); nothing was imported.") from None
    except IntegrityError:
        db.session.rollback()
        raise ImportConflict("Posts or tags with the same addresses were saved by someone else while this "
                             "import ran (another import?); nothing of this one was kept. Run it again.") from None
    except BaseException:
        db.session.rollback()
        raise
    if options.dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    return summary


def _fingerprint(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode()).hexdigest()


def _plain(text: str, limit: int) -> str:
    """``text`` (which WordPress may store with entities or tags) as plain text of at most ``limit`` characters."""
    return strip_control_chars(html_to_text(text))[:limit].strip()


def _old_path(link: str) -> str:
    """The path of an old permalink as it is looked up: decoded, lowercased, without a trailing slash."""
    try:
        path = urlsplit(link).path
    except ValueError:
        return ""
    return unquote(path).lower().rstrip("/")[:500]


class _Importer:
    """One import's state: what exists already, what this file added, and the summary."""

    def __init__(self, summary: ImportSummary, options: ImportOptions, author: User | None) -> None:
        self.summary = summary
        self.options = options
        self.authors = AuthorMap(summary, author)
        self.images: ImageMover | None = None
        self.site_host: str | None = None
        self.site_url = ""
        self.terms: dict[tuple[str, str], WxrTerm] = {}
        self.batch: list[object] = []
        self.seen: set[str] = set()
        self.items = {guid: (item_id, post_id, fingerprint) for guid, item_id, post_id, fingerprint in
                      db.session.execute(select(ImportedItem.guid, ImportedItem.id, ImportedItem.post_id,
                                                ImportedItem.fingerprint))}
        self.post_slugs = set(db.session.scalars(select(Post.slug)))
        self.tags = {tag.name.lower(): tag for tag in db.session.scalars(select(Tag))}
        self.tag_slugs = {tag.slug for tag in self.tags.values()}
        self.known_terms = {(taxonomy, slug) for taxonomy, slug in
                            db.session.execute(select(ImportedTerm.taxonomy, ImportedTerm.wp_slug))}
        self.servers = {server.code.lower(): server for server in db.session.scalars(select(Server))}

    # ------------------------------------------------------------ records

    def take(self, record) -> None:
        """Deal with one record of the export."""
        if isinstance(record, WxrItem):
            self._item(record)
        elif isinstance(record, WxrAuthor):
            self.authors.add(record)
        elif isinstance(record, WxrTerm):
            if record.taxonomy in _TAG_TAXONOMIES:
                self.terms[(record.taxonomy, record.slug.lower())] = record
        elif isinstance(record, WxrSite):
            self._site(record)

    def _site(self, site: WxrSite) -> None:
        if site.version not in KNOWN_VERSIONS:
            self.summary.warn(f"The export says WXR version {site.version}; it was read as version 1.2.")
        config = current_app.config
        self.site_url = site.url.rstrip("/") + "/"
        self.site_host = (config.get("SERVER_NAME") or "").split(":")[0] or urlsplit(site.url).hostname
        self.images = ImageMover(site.url, self.options.uploads, self._store_image, config["UPLOAD_MAX_BYTES"])

    def _store_image(self, data: bytes) -> str:
        config = current_app.config
        if self.options.dry_run:  # checked as the store would, but not written
            return reencode(data, config["UPLOAD_MAX_PIXELS"])[1]
        return store_image(data, uploads_folder(current_app), max_bytes=config["UPLOAD_MAX_BYTES"],
                           max_pixels=config["UPLOAD_MAX_PIXELS"]).name

    def _item(self, item: WxrItem) -> None:
        if item.post_type != "post":
            self.summary.skip(item.post_type)
            if item.post_type == "page" and item.status not in ("trash", "auto-draft"):
                self.summary.pages.append(_plain(item.title, 200) or f"(untitled page {item.post_id})")
            return
        if item.comments:
            self.summary.skip("comments", item.comments)
        if item.status in ("trash", "auto-draft"):
            self.summary.skip("posts in the trash" if item.status == "trash" else "automatic drafts")
            return
        guid = item.guid or (f"{self.site_url}?p={item.post_id}" if item.post_id is not None else "")
        if not guid:
            self.summary.warn(f"“{_plain(item.title, 80)}” has neither a GUID nor a post id; skipped.")
            return
        if len(guid) > _MAX_GUID:
            guid = "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
        if guid in self.seen:
            self.summary.warn(f"“{_plain(item.title, 80)}” appears twice in the export ({guid}); the first was kept.")
            return
        self.seen.add(guid)
        self._post(item, guid)

    # ------------------------------------------------------------ one post

    def _post(self, item: WxrItem, guid: str) -> None:
        existing = self.items.get(guid)
        if existing is not None and existing[1] is None:
            self.summary.skip("posts deleted here since an earlier import")
            return
        title = _plain(item.title, 200) or f"(no title, WordPress post {item.post_id})"
        servers = self._servers(title)
        author = self.authors.account_for(item.creator)
        # Of the item as exported and what it maps to here: the same next time means nothing to do,
        # without converting the body again (the sanitiser is most of an import's time).
        fingerprint = _fingerprint(CONVERSION, item.title, item.content, item.excerpt, item.status, item.password,
                                   item.date_gmt, item.pub_date, item.date_local, item.slug, item.terms,
                                   author.email if author else None, [s.code for s in servers],
                                   self.options.uploads is not None)
        if existing is not None and existing[2] == fingerprint:
            self.summary.unchanged += 1
            return
        status, created_at, published_at = self._state(item, title)
        body = body_html(item.content, self.images, self.summary.media, self.summary.warn, self.site_host)
        excerpt = excerpt_text(item.excerpt, body)
        tags = self._tags(item)
        kind = self._kind(title, tags, servers)
        if existing is not None:
            item_id, post_id, _ = existing
            post, record = db.session.get(Post, post_id), db.session.get(ImportedItem, item_id)
            if post is None or record is None:  # deleted by staff while this import ran
                self.summary.skip("posts deleted here since an earlier import")
                return
            self.summary.updated += 1
        else:
            slug_base = unquote(item.slug) or title
            post = Post(slug=unique_slug(slug_base, self._slug_taken, max_length=200), origin="import")
            self.post_slugs.add(post.slug)
            record = ImportedItem(guid=guid)
            self.summary.imported += 1
        post.title, post.body_html, post.excerpt = title, body, excerpt
        post.body_text = html_to_text(body)
        post.status, post.published_at, post.created_at = status, published_at, created_at
        post.kind, post.author, post.tags, post.servers = kind, author, tags, servers
        record.post = post
        record.wp_post_id = item.post_id
        record.link_path = _old_path(item.link)
        record.wp_slug = unquote(item.slug).lower()[:220]
        record.fingerprint = fingerprint
        db.session.add(record)
        self.batch += [post, record]
        if len(self.batch) >= BATCH_SIZE * 2:
            self._flush_batch()

    def _slug_taken(self, slug: str) -> bool:
        return slug in self.post_slugs

    def _flush_batch(self) -> None:
        db.session.flush()
        for obj in self.batch:
            db.session.expunge(obj)
        self.batch = []
        # The other side of each post's tags, servers and author lists the posts too: forget those lists.
        for shared in (*self.tags.values(), *self.servers.values(), *self.authors.accounts()):
            db.session.expire(shared, ["posts"])

    def _state(self, item: WxrItem, title: str) -> tuple[PostStatus, datetime, datetime | None]:
        """The post's status, when it was written and when it is (or will be) published."""
        when = item.date_gmt or item.pub_date
        if when is None and item.date_local is not None:
            when = item.date_local
            if item.status in ("publish", "future"):
                self.summary.warn(f"“{title}” has no GMT date; its local date was taken as UTC.")
        status = _STATUSES.get(item.status)
        reason = "password-protected" if item.password else _DRAFT_REASONS.get(item.status)
        if reason is not None:
            self.summary.drafts[reason] += 1
            status = PostStatus.DRAFT
        elif status is None:
            self.summary.warn(f"“{title}” has the WordPress status “{item.status}”; imported as a draft.")
            status = PostStatus.DRAFT
        if status is not PostStatus.DRAFT and when is None:
            self.summary.warn(f"“{title}” has no date; imported as a draft.")
            status = PostStatus.DRAFT
        return status, when or utcnow(), when if status is not PostStatus.DRAFT else None

    def _tags(self, item: WxrItem) -> list[Tag]:
        tags: dict[int, Tag] = {}
        for domain, nicename, name in item.terms:
            slug = unquote(nicename).lower()
            if domain not in _TAG_TAXONOMIES or (domain == "category" and slug == _DEFAULT_CATEGORY):
                continue
            listed = self.terms.get((domain, slug))
            name = _plain(name or (listed.name if listed else "") or slug, 64)
            if not name:
                continue
            tag = self._tag(name)
            tags[id(tag)] = tag
            if slug and (domain, slug) not in self.known_terms:
                self.known_terms.add((domain, slug))
                db.session.add(ImportedTerm(taxonomy=domain, wp_slug=slug[:220], tag=tag))
        return sorted(tags.values(), key=lambda t: t.name)

    def _tag(self, name: str) -> Tag:
        tag = self.tags.get(name.lower())
        if tag is None:
            tag = Tag(name=name, slug=unique_slug(name, self.tag_slugs.__contains__))
            self.tag_slugs.add(tag.slug)
            self.tags[name.lower()] = tag
            db.session.add(tag)
            self.summary.tags_created += 1
        return tag

    def _servers(self, title: str) -> list[Server]:
        match = _TITLE_SERVERS.match(title)
        if match is None:
            return []
        found = (self.servers.get(code.lower()) for code in _SERVER_CODE.findall(match.group(1)))
        return sorted({s.id: s for s in found if s is not None}.values(), key=lambda s: (s.display_order, s.code))

    @staticmethod
    def _kind(title: str, tags: list[Tag], servers: list[Server]) -> PostKind:
        words = " ".join([title, *(t.name for t in tags)]).lower()
        if "maintenance" in words:
            return PostKind.MAINTENANCE
        return PostKind.INCIDENT if servers else PostKind.NOTICE
