"""Plain rows of a column statement, read on the session's connection without the ORM's result handling.

Pages read several hundred plain rows per request (servers and checks, the
90-day strips, uptime windows, the tag cloud). Sent through the session,
every row of a column statement still goes through the ORM's result
machinery, about a sixth of such a read's cost. These reads select columns,
never entities, and run in read-only requests, so nothing pending needs
flushing first; they share the session's connection and transaction.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Result

from .extensions import db


def plain_rows(statement: Executable, values: Mapping[str, Any] | None = None) -> Result:
    """``statement``'s rows, sent with ``values`` on the session's connection."""
    return db.session.connection().execute(statement, values or {})
