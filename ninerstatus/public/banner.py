"""The status summary at the top of every public page, and the state marks on incident posts.

The banner only shows what ``site_status.site_summary()`` worked out: it never
judges the site's state itself, so the page and ``status.json`` cannot
disagree. An incident post's mark ("Resolved", "Investigating") comes from the
same functions as the Statuspage API's incident status.

Pages with the banner are kept by the page cache and shared by every
anonymous reader: nothing here depends on who is signed in. It is drawn with
the page, not with the sidebar, whose HTML is kept separately.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from ..api.statuspage import incident_resolved_at, incident_status
from ..checks.status import short_time
from ..site_status import AffectedServer, site_summary

#: How visitors read a maintenance window's phase.
WINDOW_STATES = {"scheduled": "Scheduled", "under way": "In progress"}


def open_post_state(kind: str, state: str) -> str:
    """The word the banner shows for an open post's state: "Investigating", "Scheduled", "In progress"..."""
    if kind == "maintenance":
        return WINDOW_STATES.get(state, state.capitalize())
    return state.capitalize()


@dataclass(frozen=True)
class ServerGroup:
    """Affected servers in the same state since the same moment, told in one phrase: "NC031, NC032 outage since ..."."""

    label: str
    css: str
    since: datetime | None
    codes: tuple[str, ...]


def group_servers(servers: tuple[AffectedServer, ...]) -> list[ServerGroup]:
    """``servers`` grouped by state and since when, in the order each group first appears."""
    groups: dict[tuple, list[AffectedServer]] = {}
    for server in servers:
        groups.setdefault((server.label, server.since), []).append(server)
    return [ServerGroup(label, members[0].css, since, tuple(s.code for s in members))
            for (label, since), members in groups.items()]


def banner_context() -> dict:
    """Context processor: let every template draw the status summary."""
    return {"site_summary": site_summary, "open_post_state": open_post_state, "group_servers": group_servers}


def init_banner(app: Flask) -> None:
    """Give templates the status summary, and the post macros the incident marks and short UTC times.

    The marks are globals and the time a filter, not context: the post macros
    are imported without the page's context.
    """
    app.context_processor(banner_context)
    app.add_template_global(incident_status)
    app.add_template_global(incident_resolved_at)
    app.add_template_filter(short_time)
