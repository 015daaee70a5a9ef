"""Every server with its checks as plain rows: what pages and the API draw from, read once per request.

The sidebar, the status summary, a server's page, ``/api/servers`` and
Statuspage's components all show the same servers and checks. Reading them
as ORM objects costs an identity map, change tracking and a relationship
load each time one of those parts asks; reading them here costs two queries
per request (servers, then the checks visitors may see, only the columns
drawn), and every part of the page shares the answer. The rows are frozen: nothing drawn from
them can change the database.

``ListedServer`` and ``ListedCheck`` answer what ``checks.status`` and the
templates ask of a server and a check (``checks``, ``is_public``, ``place``;
``title``, ``result``, ``last_checked_at``...), so the same rules apply to
both, and a check's widget template sees the check as before.

A check's latest result is read as its stored text and turned into a
``ProbeResult`` once per process for the same text (``read_result``): a
check probed every minute shows the same result to every page of that
minute, and decoding and checking it again is most of what listing it costs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache

from sqlalchemy import Select, Text, cast, select

from ..models import Server, Visibility
from ..per_request import once_per_request
from ..plain_rows import plain_rows
from ..probing import ProbeResult, Status
from .located import LOCATION_COUNT
from .models import Check, check_title, stored_result


@dataclass(frozen=True, eq=False)
class ListedCheck:
    """One check as visitors may be shown it: its name, schedule, confirmed state and latest result."""

    id: int
    server_id: int
    type_name: str
    label: str
    port: int
    visibility: Visibility
    enabled: bool
    interval_seconds: int
    display_order: int
    created_at: datetime
    #: The latest result as stored: JSON text (or whatever a hand edit left there), None before the first.
    last_result_text: str | None
    last_checked_at: datetime | None
    state: str
    state_since: datetime | None
    # How many active locations probe it: 1 on a site without agents (0 before its first result; checks/located.py).
    locations: int

    @property
    def title(self) -> str:
        """The name staff gave the check, or its type and port."""
        return check_title(self.label, self.type_name, self.port)

    @property
    def is_public(self) -> bool:
        """True when visitors may see this check's widget (its server is public: only those checks are listed)."""
        return self.visibility is Visibility.PUBLIC

    @property
    def result(self) -> ProbeResult | None:
        """The latest result (see ``Check.result``)."""
        return read_result(self.last_result_text, self.last_checked_at)

    @property
    def status(self) -> Status:
        """The latest status; UNKNOWN before the first result."""
        result = self.result
        return result.status if result else Status.UNKNOWN


@dataclass(frozen=True, eq=False)
class ListedServer:
    """One server of "Systems at a Glance" with its checks that visitors may see, in display order.

    Only those are read: an internal server shows no check, and a check that
    is internal or switched off shows nowhere (``checks.status.public_checks``
    finds them all public and enabled).
    """

    id: int
    code: str
    role: str
    city: str
    country: str
    visibility: Visibility
    display_order: int
    notes: str
    state: str
    state_since: datetime | None
    checks: tuple[ListedCheck, ...] = field(default=())

    @property
    def is_public(self) -> bool:
        """True when visitors may see this server's live state."""
        return self.visibility is Visibility.PUBLIC

    @property
    def place(self) -> str:
        """City and country as one phrase, skipping whichever is missing."""
        return ", ".join(part for part in (self.city, self.country) if part)


#: Distinct stored results each process remembers reading: a few for every check of a large site.
RESULTS_KEPT = 4096


def read_result(text: str | None, checked_at: datetime | None) -> ProbeResult | None:
    """The result stored as ``text``, read as ``Check.result`` reads it (see ``checks.models.stored_result``).

    A result that reads is kept by its text (results are frozen, so every
    page may share it); one that does not is worked out afresh each time, as
    it says when the check last ran.
    """
    if text is None:
        return None
    kept = _readable_result(text)
    return kept if kept is not None else stored_result(stored_json(text), checked_at)


@lru_cache(maxsize=RESULTS_KEPT)
def _readable_result(text: str) -> ProbeResult | None:
    """The result stored as ``text``, or None when it does not read as one."""
    data = stored_json(text)
    if not data or not isinstance(data, dict):
        return None
    try:
        return ProbeResult.from_dict(data)
    except Exception:  # whatever the stored data holds: stored_result says what, each time it is asked
        return None


def stored_json(text: str):
    """The stored JSON, or the text itself when it is not JSON (as ``columns.StoredJSON`` reads it)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


_SERVER_COLUMNS = (Server.id, Server.code, Server.role, Server.city, Server.country, Server.visibility,
                   Server.display_order, Server.notes, Server.state, Server.state_since)
_CHECK_COLUMNS = (Check.id, Check.server_id, Check.type_name, Check.label, Check.port, Check.visibility,
                  Check.enabled, Check.interval_seconds, Check.display_order, Check.created_at,
                  # As text: read once per process for the same text (see ``read_result``).
                  cast(Check.last_result, Text).label("last_result"), Check.last_checked_at, Check.state,
                  Check.state_since, LOCATION_COUNT)


@cache
def _statements() -> tuple[Select, Select]:
    """The two queries, built once per process: SQLAlchemy keeps a built statement's cache key."""
    return (select(*_SERVER_COLUMNS).order_by(Server.display_order, Server.code),
            select(*_CHECK_COLUMNS).join(Server, Server.id == Check.server_id)
            .where(Check.enabled, Check.visibility == Visibility.PUBLIC, Server.visibility == Visibility.PUBLIC)
            .order_by(Check.display_order, Check.id))


def read_servers() -> tuple[ListedServer, ...]:
    """Every server in sidebar order with the checks visitors may see, from two queries."""
    servers_query, checks_query = _statements()
    servers = plain_rows(servers_query).all()
    checks: dict[int, list[ListedCheck]] = {}
    for row in plain_rows(checks_query):
        checks.setdefault(row.server_id, []).append(ListedCheck(*row))
    return tuple(ListedServer(*row, checks=tuple(checks.get(row.id, ()))) for row in servers)


def listed_servers() -> tuple[ListedServer, ...]:
    """``read_servers()``, read once per request however many parts of the page or document show servers."""
    return once_per_request("listed_servers", read_servers)


def public_servers() -> list[ListedServer]:
    """The servers whose live state visitors may see, in sidebar order."""
    return [server for server in listed_servers() if server.is_public]


def listed_server(code: str) -> ListedServer | None:
    """The server with ``code`` exactly, or None."""
    return next((server for server in listed_servers() if server.code == code), None)
