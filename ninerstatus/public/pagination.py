"""Page numbers from the query string, checked before any query runs."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from flask import abort, request
from sqlalchemy import func, select

from ..extensions import db


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


def paginate(statement, per_page: int) -> Page:
    """Run ``statement`` for the requested page; 404 when the page is past the end."""
    number = requested_page()
    total = db.session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    page = Page(items=[], number=number, per_page=per_page, total=total or 0)
    if number > page.pages:
        abort(404, description=f"There is no page {number}: the last page is {page.pages}.")
    items = db.session.scalars(statement.limit(per_page).offset((number - 1) * per_page)).unique().all()
    return Page(items=list(items), number=number, per_page=per_page, total=page.total)
