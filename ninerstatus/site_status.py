"""The whole site's state at one moment: one level, the open incidents and maintenance windows behind it.

This is the one answer to "is it down, and since when?". The banner at the
top of every public page and the Statuspage-shaped ``status.json`` both read
it from ``site_summary()``, so they cannot disagree.

The level is the worst of:

- each public server's state (``checks.status.server_state``, which holds
  the servers an open incident names at its declared state at least):
  DEGRADED and UNKNOWN make the site degraded (no data is not good news),
  PARTIAL OUTAGE a partial outage, and OUTAGE a partial outage too unless
  every public server is out, which is a major outage;
- each open incident's impact as staff declared it: minor is degraded,
  major a partial outage, critical a major outage (none changes nothing; an
  incident without a declared impact counts as minor).

docs/states.md tells the same for visitors and staff.

With nothing worse, an open maintenance window makes the site "under
maintenance". Drafts, posts scheduled for later and internal servers never
count: everything starts from ``Post.visible_clause`` and public servers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam

from .checks.listing import ListedServer, public_servers
from .checks.status import ServerState, server_state
from .incident_floors import OpenIncident, request_open_incidents
from .markup import html_to_text
from .per_request import once_per_request
from .plain_rows import plain_rows
from .models import IncidentImpact, Post, PostUpdate, UpdateState
from .post_rows import SERVER_ORDER, PostRow, post_rows, with_servers_and_newest_update
from .public.maintenance import UNDER_WAY, phase_at
from .timeutil import utcnow

OPERATIONAL, DEGRADED, PARTIAL_OUTAGE, MAJOR_OUTAGE = "operational", "degraded", "partial_outage", "major_outage"
MAINTENANCE = "maintenance"
#: Site levels, mildest first; maintenance is shown only when nothing is worse than operational.
LEVELS = (OPERATIONAL, DEGRADED, PARTIAL_OUTAGE, MAJOR_OUTAGE)
HEADLINES = {OPERATIONAL: "All systems operational", DEGRADED: "Degraded service",
             PARTIAL_OUTAGE: "Partial outage", MAJOR_OUTAGE: "Major outage", MAINTENANCE: "Under maintenance"}
#: The level and description Statuspage's clients expect for each site level.
STATUSPAGE = {OPERATIONAL: ("none", "All Systems Operational"), DEGRADED: ("minor", "Partially Degraded Service"),
              PARTIAL_OUTAGE: ("major", "Partial System Outage"), MAJOR_OUTAGE: ("critical", "Major System Outage"),
              MAINTENANCE: ("none", "Service Under Maintenance")}
#: The site level each server label makes; OUTAGE is a major outage only when every public server is out.
SERVER_LEVELS = {"DEGRADED": DEGRADED, "UNKNOWN": DEGRADED, "PARTIAL OUTAGE": PARTIAL_OUTAGE,
                 "OUTAGE": PARTIAL_OUTAGE}
IMPACT_LEVELS = {IncidentImpact.NONE: OPERATIONAL, IncidentImpact.MINOR: DEGRADED,
                 IncidentImpact.MAJOR: PARTIAL_OUTAGE, IncidentImpact.CRITICAL: MAJOR_OUTAGE}
#: How much of the newest update the banner quotes.
LATEST_TEXT_LENGTH = 200


@dataclass(frozen=True)
class OpenPost:
    """An open incident, or a maintenance window not over yet, as the banner lists it."""

    kind: str  # "incident" or "maintenance"
    title: str
    slug: str
    # An incident's newest update state (investigating, identified, monitoring); a maintenance
    # window's phase ("scheduled" or "under way").
    state: str
    # none, minor, major or critical for an incident; "maintenance" for a window.
    impact: str
    # When the incident started, or when the window opens.
    since: datetime
    # When the window closes; None for incidents.
    until: datetime | None
    # The newest update in plain text (shortened), or the post's excerpt when it has none.
    latest: str
    latest_at: datetime | None
    servers: tuple[str, ...]


@dataclass(frozen=True)
class AffectedServer:
    """A public server that is not operational: its code, its label for visitors and since when."""

    code: str
    label: str
    css: str
    since: datetime | None


@dataclass(frozen=True)
class SiteSummary:
    """The site's level, since when, and what makes it so."""

    level: str
    since: datetime | None
    incidents: tuple[OpenPost, ...]
    maintenances: tuple[OpenPost, ...]
    servers: tuple[AffectedServer, ...]
    # Every public server in sidebar order with its state, for documents that list them all (status.json's
    # components), so they show what the level was worked out from.
    server_states: tuple[tuple[ListedServer, ServerState], ...] = ()

    @property
    def headline(self) -> str:
        """The banner's one line: "All systems operational", "Partial outage"..."""
        return HEADLINES[self.level]

    @property
    def css(self) -> str:
        """The class name the stylesheet colours the banner by."""
        return self.level.replace("_", "-")

    @property
    def indicator(self) -> str:
        """Statuspage's page indicator: none, minor, major or critical."""
        return STATUSPAGE[self.level][0]

    @property
    def description(self) -> str:
        """Statuspage's page description, e.g. "Partial System Outage"."""
        return STATUSPAGE[self.level][1]


def worse(level: str, other: str) -> str:
    """The worse of two site levels (maintenance counts as operational here)."""
    rank = {name: index for index, name in enumerate(LEVELS)}
    return max(level, other, key=lambda name: rank.get(name, 0))


def newest_update(post: Post) -> PostUpdate | None:
    """The newest update on ``post`` (updates are loaded newest first)."""
    return post.updates[0] if post.updates else None


def incident_is_open(post: Post) -> bool:
    """True for an incident whose newest update is not "resolved"; one without updates was written after the fact.

    ``incident_floors.open_incident_clause`` is the same rule in SQL, for queries.
    """
    latest = newest_update(post)
    return latest is not None and latest.state is not UpdateState.RESOLVED


def incident_started_at(post: Post) -> datetime:
    """When an incident started: its publication or its first update, whichever came first (as its floor says)."""
    return min([post.published_at, *(u.created_at for u in post.updates)])


def _latest_text(html: str | None, otherwise: str) -> str:
    """The banner's quote of an update's ``html`` in plain text, shortened, or ``otherwise`` without an update."""
    text = " ".join((html_to_text(html) if html is not None else otherwise).split())
    if len(text) > LATEST_TEXT_LENGTH:
        text = text[:LATEST_TEXT_LENGTH - 1].rsplit(" ", 1)[0] + "…"
    return text


def _open_incident(incident: OpenIncident) -> OpenPost:
    return OpenPost(kind="incident", title=incident.title, slug=incident.slug, state=incident.state.value,
                    impact=(incident.impact or IncidentImpact.MINOR).value, since=incident.started_at, until=None,
                    latest=_latest_text(incident.latest_html, ""), latest_at=incident.latest_at,
                    servers=incident.server_codes)


def _open_window(row: PostRow, now: datetime) -> OpenPost:
    _id, title, slug, excerpt, published_at, starts_at, ends_at = row.columns
    return OpenPost(kind="maintenance", title=title, slug=slug, state=phase_at(starts_at, ends_at, now),
                    impact="maintenance", since=starts_at, until=ends_at,
                    latest=_latest_text(row.latest_html if row.has_update else None, excerpt or ""),
                    latest_at=row.latest_at if row.has_update else published_at,
                    servers=row.server_codes)


@cache
def _open_windows_query() -> Select:
    """``open_windows``' query, built once per process and sent with the time."""
    return (with_servers_and_newest_update(Post.id, Post.title, Post.slug, Post.excerpt, Post.published_at,
                                           Post.starts_at, Post.ends_at)
            .where(Post.announced_window_clause(bindparam("now")))
            .order_by(Post.starts_at, Post.id, *SERVER_ORDER))


def open_windows(now: datetime) -> list[PostRow]:
    """Published maintenance windows not over at ``now`` and not declared finished, soonest first."""
    return [row for row in post_rows(plain_rows(_open_windows_query(), {"now": now}))
            if row.state is not UpdateState.RESOLVED]


def public_server_states(now: datetime) -> list[tuple[ListedServer, ServerState]]:
    """Public servers in sidebar order, with their state at ``now``."""
    return [(server, server_state(server, now)) for server in public_servers()]


def summarise(now: datetime) -> SiteSummary:
    """Work out the site's summary at ``now`` from the database."""
    servers = public_server_states(now)
    incidents = [_open_incident(incident) for incident in request_open_incidents(now)]
    windows = [_open_window(row, now) for row in open_windows(now)]
    level, causes = OPERATIONAL, []
    affected = []
    for server, state in servers:
        if state.label in SERVER_LEVELS:
            affected.append(AffectedServer(server.code, state.label, state.css, state.since))
            level = worse(level, SERVER_LEVELS[state.label])
            causes.append(state.since)
    if servers and all(state.label == "OUTAGE" for _, state in servers):
        level = MAJOR_OUTAGE
    for incident in incidents:
        level = worse(level, IMPACT_LEVELS[IncidentImpact(incident.impact)])
        causes.append(incident.since)
    if level == OPERATIONAL:
        under_way = [w for w in windows if w.state == UNDER_WAY]
        if under_way:
            level, causes = MAINTENANCE, [w.since for w in under_way]
    since = min((c for c in causes if c), default=None) if level != OPERATIONAL else None
    return SiteSummary(level, since, tuple(incidents), tuple(windows), tuple(affected), tuple(servers))


def site_summary(now: datetime | None = None) -> SiteSummary:
    """The site's summary, worked out once per request however many parts of the page ask."""
    return once_per_request("site_summary", lambda: summarise(now or utcnow()))
