"""Page numbers from the query string, checked before any query runs."""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, request
from sqlalchemy import Select, bindparam, func, select

from ..extensions import db
from ..plain_rows import plain_rows


@dataclass(frozen=True)
class Page:
    """One page of results with what a pager needs to link to its neighbours."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one, even when empty)."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def requested_page() -> int:
    """Return ``?page=`` as a positive integer, or answer 400 with what was wrong."""
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1 or len(raw) > 9:
        abort(400, description=f"“{raw[:40]}” is not a page number: use a whole number from 1 up.")
    return int(raw)


@dataclass(frozen=True)
class Listing:
    """What a paged list sends: its items' statement, with bound ``limit`` and ``offset``, and its count's.

    A listing built once per process and sent with each request's values
    (``values`` of ``page_of``) costs no statement building on the way:
    SQLAlchemy keeps a built statement's cache key.
    """

    items: Select
    count: Select

    @classmethod
    def of(cls, statement: Select) -> Listing:
        """The listing of ``statement``'s rows in its order."""
        return cls(statement.limit(bindparam("limit")).offset(bindparam("offset")),
                   select(func.count()).select_from(statement.order_by(None).subquery()))


def page_of(listing: Listing, per_page: int, values: Mapping[str, Any],
            items: Callable[[Sequence], list] | None = None) -> Page:
    """The requested page of ``listing`` sent with ``values``; 404 when the page is past the end.

    Without ``items`` the page holds the ORM objects the statement selects;
    with it, ``items`` of the statement's rows.
    """
    number = requested_page()
    # Column statements (``items`` given) need none of the ORM's handling of their rows.
    execute = plain_rows if items else db.session.execute
    total = execute(listing.count, values).scalar()
    page = Page(items=[], number=number, per_page=per_page, total=total or 0)
    if number > page.pages:
        abort(404, description=f"There is no page {number}: the last page is {page.pages}.")
    result = execute(listing.items, {**values, "limit": per_page, "offset": (number - 1) * per_page})
    rows = items(result.all()) if items else list(result.scalars().unique().all())
    return Page(items=rows, number=number, per_page=per_page, total=page.total)


def paginate(statement: Select, per_page: int) -> Page:
    """Run ``statement`` for the requested page; 404 when the page is past the end."""
    return page_of(Listing.of(statement), per_page, {})
