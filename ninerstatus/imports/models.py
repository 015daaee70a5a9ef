"""What the WordPress importer remembers: each item it imported and each term it made a tag of.

An item is keyed by its export GUID, so importing the same file again finds
its post instead of adding a twin, and by its old WordPress id, slug and
address, so the old permalinks can send visitors to the post
(public/old_links.py). ``fingerprint`` is a hash of what the import made of
the item: the same hash next time means there is nothing to change.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Post, Tag
from ..timeutil import UTCDateTime, utcnow


class ImportedItem(db.Model):
    """A WordPress post that became a post here."""

    __tablename__ = "wordpress_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    guid: Mapped[str] = mapped_column(String(500), unique=True)
    wp_post_id: Mapped[int | None] = mapped_column(index=True)
    # The old permalink's path, decoded, lowercased, without its trailing slash ("/2018/06/20/nc036-update").
    link_path: Mapped[str] = mapped_column(String(500), default="", index=True)
    # The WordPress slug, decoded and lowercased.
    wp_slug: Mapped[str] = mapped_column(String(220), default="", index=True)
    # None once staff delete the post: a re-import leaves it deleted.
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    post: Mapped[Post | None] = relationship()

    def __repr__(self) -> str:
        return f"<ImportedItem {self.guid}>"


class ImportedTerm(db.Model):
    """A WordPress category or tag, by its old slug, and the tag it became."""

    __tablename__ = "wordpress_terms"
    __table_args__ = (UniqueConstraint("taxonomy", "wp_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "category" or "post_tag".
    taxonomy: Mapped[str] = mapped_column(String(32))
    wp_slug: Mapped[str] = mapped_column(String(220))
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), index=True)

    tag: Mapped[Tag] = relationship()

    def __repr__(self) -> str:
        return f"<ImportedTerm {self.taxonomy}/{self.wp_slug}>"
