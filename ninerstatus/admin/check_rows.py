"""Checks as staff pages show them, read as plain rows: one query, however many checks a page lists.

The check list, the dashboard (checks not OK, checks that cannot run, what
the probes see beside each drafted incident) and the post editor's findings
all read the same columns. Reading them as ORM objects cost an identity map,
change tracking and a server load per check each time; a ``StaffCheck`` is a
frozen row, so its state is worked out once per request
(``checks.status.check_state``), its latest result once per process for the
same stored text (``checks.listing.read_result``), and whether it can run
once per process for the same stored values
(``checks.validity.stored_check_problem``).
"""
from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, fields
from functools import cache

from sqlalchemy import Select, Text, cast, select

from ..checks.listing import ListedCheck
from ..checks.located import LOCATION_COUNT
from ..checks.models import Check
from ..checks.validity import STORED_CHECK_COLUMNS, StoredCheck, stored_check_problem
from ..columns import UnknownMember
from ..models import Server, Visibility
from ..plain_rows import plain_rows
from ..probing import Family, TlsMode


@dataclass(frozen=True, eq=False)
class StaffCheck(ListedCheck):
    """One check, enabled or not, of any server: what visitors' listing holds, its server and its target."""

    server_code: str
    server_visibility: Visibility
    # The rest of what decides whether the check can run (see ``problem``), its target among them.
    tls_mode: TlsMode | UnknownMember
    family: Family | UnknownMember
    settings_text: str | None
    timeout_seconds: float
    host: str
    tls_name: str | None
    tls_verify: bool
    ca_file: str | None
    warn_days: int
    crit_days: int

    @property
    def is_public(self) -> bool:
        """True when visitors may see this check's widget."""
        return self.visibility is Visibility.PUBLIC and self.server_visibility is Visibility.PUBLIC

    def problem(self, check_types: Collection[str]) -> str | None:
        """Why the runner cannot probe the check as it is stored, or None (see ``checks.validity``)."""
        return stored_check_problem(StoredCheck(*(getattr(self, name) for name in StoredCheck._fields)),
                                    check_types)


#: What each of ``StaffCheck``'s fields is read from: the listing's columns, the server's, and those
#: ``stored_check_problem`` is asked about.
_COLUMN_OF = {column.key: column for column in (
    Check.id, Check.server_id, Check.type_name, Check.label, Check.port, Check.visibility, Check.enabled,
    Check.interval_seconds, Check.display_order, Check.created_at,
    cast(Check.last_result, Text).label("last_result_text"), Check.last_checked_at, Check.state,
    Check.state_since, LOCATION_COUNT, Server.code.label("server_code"),
    Server.visibility.label("server_visibility"), *STORED_CHECK_COLUMNS)}


@cache
def _statement(enabled: bool) -> Select:
    """Every check, or the enabled ones, by server; built once per process (SQLAlchemy keeps its cache key)."""
    columns = [_COLUMN_OF[field.name] for field in fields(StaffCheck)]  # rows then fill a StaffCheck in order
    statement = (select(*columns).join(Server, Server.id == Check.server_id)
                 .order_by(Check.server_id, Check.display_order, Check.id))
    return statement.where(Check.enabled) if enabled else statement


def staff_checks(*, enabled: bool = False, server_ids: Collection[int] | None = None) -> list[StaffCheck]:
    """Every check, or only the ``enabled`` ones, or those of ``server_ids``; by server, then in display order."""
    statement = _statement(enabled)
    if server_ids is not None:
        statement = statement.where(Check.server_id.in_(server_ids))
    return [StaffCheck(*row) for row in plain_rows(statement)]
