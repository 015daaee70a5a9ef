"""The history revision: a number that changes whenever a day already over may add up differently in the bars.

Each worker sums the bars of the days before today once and keeps them
(see uptime.py) for as long as this number stays the same; only today's
bar is summed on every page. So everything that can change a past day's
sums adds one to it, in the same transaction as the change:

- staff changing which checks count: a check's visibility, its switch or
  its server, a server's visibility, a check or server deleted (any flush
  of the session, whatever view or command made it; see ``_count_changes``);
- a result recorded for a day already over, or for the last minutes of
  today (``LATE_MARGIN``: a worker whose clock runs a little ahead may
  already count today as over): an agent sending what it kept while the
  site was out of reach (history/recorder.py);
- retention deleting daily rows (history/retention.py).

A hand edit of the database passes none of these: its bars show the next
day, or once the workers restart.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session

from ..checks.models import Check
from ..models import Server
from ..plain_rows import plain_rows
from .models import HistoryRevision
from .tiers import DAILY

#: Seconds before midnight from which a result counts as late (see the module's docstring).
LATE_MARGIN = 600

#: The row's key.
_ROW = 1

#: Adds one to the revision, writing the row again if it is missing; the same statement on SQLite and PostgreSQL.
BUMP_SQL = (f"INSERT INTO {HistoryRevision.__tablename__} (id, revision) VALUES ({_ROW}, 1) "
            f"ON CONFLICT (id) DO UPDATE SET revision = {HistoryRevision.__tablename__}.revision + 1")
BUMP = text(BUMP_SQL)

_READ = HistoryRevision.__table__.select().with_only_columns(HistoryRevision.revision).where(
    HistoryRevision.id == _ROW)

#: The columns whose change moves a check's results from one server's bars to another's, or in or out of them.
COUNTED = {Check: ("visibility", "enabled", "server_id", "server"), Server: ("visibility",)}


def current_revision() -> int:
    """The revision as stored (0 when its row is missing)."""
    return plain_rows(_READ).scalar() or 0


def is_late(first_second: int, now_second: int) -> bool:
    """Whether a result at ``first_second`` (epoch seconds) is late at ``now_second``: see the module's docstring."""
    return first_second < DAILY.bucket_start(now_second + LATE_MARGIN)


@event.listens_for(Session, "before_flush")
def _count_changes(session: Session, flush_context: Any, instances: Any) -> None:
    """Before a flush: add one to the revision if it changes which checks count in the bars."""
    if any(type(item) in COUNTED for item in session.deleted) or any(
            _changed(item) for item in session.dirty if type(item) in COUNTED):
        session.execute(BUMP)


def _changed(item: object) -> bool:
    """Whether a check or server in the session has a changed column of COUNTED."""
    state = inspect(item)
    return any(state.attrs[name].history.has_changes() for name in COUNTED[type(item)])
