"""The site's public state in the shapes of Atlassian Statuspage's v2 API, so its clients can read it.

How ninerstatus maps onto Statuspage:

- **Components** are the public servers, with the state visitors see in the
  sidebar (``server_state``, open incidents' floors included): OUTAGE is
  ``major_outage``, PARTIAL OUTAGE ``partial_outage``, DEGRADED
  ``degraded_performance``. Internal servers are left out: visitors only ever
  learn that they are internal, and Statuspage has no status meaning "not
  shown". A server whose checks have no recent result is UNKNOWN on the site;
  Statuspage has no such status either, so it is reported as
  ``degraded_performance`` (never ``operational``: no data is not good news)
  with the site's own word in ``label``. A component's ``updated_at`` is
  when its state began, as the page says ("since ..."). Extra fields
  (``label``, ``checked_at``, ``url``) are ignored by Statuspage clients.
- **Incidents** are published incident posts; their updates are the post's
  timeline. An incident's status is its newest update's; a post without
  updates is a report written after the fact, so it counts as resolved, as
  of its publication. Staff writing during an outage add an "investigating"
  update (the editor says so; incidents the probes drafted get one when
  published) to show it as ongoing.
  Its impact is the one staff declared; without one it is ``minor``, or
  worse while the incident is open and the servers it names are worse off now.
- **The page's status** is the site's level from ``site_status.site_summary``,
  the same answer the banner on every page gives.
- **Scheduled maintenances** are published maintenance posts with a window.
- Drafts, posts scheduled for later, internal servers, check settings and
  probe transcripts never appear: everything starts from ``Post.visible_clause``
  and ``server_state``, the same sources as the public pages.
"""
from __future__ import annotations

from datetime import datetime
from functools import cached_property
from typing import Any

from flask import current_app, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..checks.status import (DEGRADED, MAINTENANCE_LABEL, OPERATIONAL, OUTAGE, PARTIAL_OUTAGE, UNKNOWN,
                             ServerState, public_checks)
from ..extensions import db
from ..incident_floors import latest_update_state, open_incident_clause
from ..markup import html_to_text
from ..models import Post, PostKind, PostUpdate, Server, UpdateState
from ..public.maintenance import OVER, SCHEDULED, window_phase
from ..site_status import incident_started_at, newest_update, site_summary

#: Incident impacts, mildest first; an index into this tuple is a "level".
INDICATORS = ("none", "minor", "major", "critical")
#: The Statuspage status of each server label visitors see.
COMPONENT_STATUSES = {OPERATIONAL: "operational", MAINTENANCE_LABEL: "under_maintenance",
                      DEGRADED: "degraded_performance", UNKNOWN: "degraded_performance",
                      PARTIAL_OUTAGE: "partial_outage", OUTAGE: "major_outage"}
#: The least impact an open incident on a component of each status has, when staff declared none.
COMPONENT_LEVELS = {"operational": 0, "under_maintenance": 0, "degraded_performance": 1, "partial_outage": 2,
                    "major_outage": 2}
#: A maintenance's timeline in Statuspage's words for maintenances.
MAINTENANCE_UPDATE_STATES = {UpdateState.INVESTIGATING: "in_progress", UpdateState.IDENTIFIED: "in_progress",
                             UpdateState.MONITORING: "verifying", UpdateState.RESOLVED: "completed"}
#: How many incidents and maintenances the lists hold, as on Statuspage.
LIST_LIMIT = 50


def iso(moment: datetime | None) -> str | None:
    """A UTC time as ISO 8601 with milliseconds, or None."""
    return moment.isoformat(timespec="milliseconds") if moment else None


def incident_status(post: Post) -> str:
    """investigating, identified, monitoring or resolved: the newest update's state; resolved without updates."""
    latest = newest_update(post)
    return latest.state.value if latest else UpdateState.RESOLVED.value


def incident_resolved_at(post: Post) -> datetime | None:
    """When a resolved incident was resolved: its newest update's time, or its publication without updates."""
    if incident_status(post) != UpdateState.RESOLVED.value:
        return None
    latest = newest_update(post)
    return latest.created_at if latest else post.published_at


def maintenance_status(post: Post, now: datetime) -> str:
    """scheduled, in_progress, verifying or completed, from the window and the newest update."""
    latest = newest_update(post)
    phase = window_phase(post, now)
    if phase == OVER or (latest and latest.state is UpdateState.RESOLVED):
        return "completed"
    if phase == SCHEDULED:
        return "scheduled"
    return "verifying" if latest and latest.state is UpdateState.MONITORING else "in_progress"


def first_update_at(post: Post, state: UpdateState) -> datetime | None:
    """When ``post`` first reached ``state``, or None."""
    return min((u.created_at for u in post.updates if u.state is state), default=None)


class StatusPage:
    """The public state of the site at ``now``; each part is worked out once, when first asked for."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    @cached_property
    def page_id(self) -> str:
        return request.host.split(":")[0]

    @cached_property
    def servers(self) -> list[tuple[Server, ServerState]]:
        """Public servers in sidebar order, with their state: those the site's level was worked out from."""
        return list(site_summary(self.now).server_states)

    @cached_property
    def components(self) -> list[dict[str, Any]]:
        return [self._component(server, state, position)
                for position, (server, state) in enumerate(self.servers, start=1)]

    @cached_property
    def components_by_server(self) -> dict[int, dict[str, Any]]:
        return {server.id: component for (server, _), component in zip(self.servers, self.components)}

    def _component(self, server: Server, state: ServerState, position: int) -> dict[str, Any]:
        checked = [c.last_checked_at for c in state.checks]
        created_at = min((c.created_at for c in public_checks(server)), default=None)
        return {
            "id": server.code,
            "name": server.code,
            "description": ", ".join(part for part in (server.role, server.place) if part) or None,
            "status": COMPONENT_STATUSES[state.label],
            "label": state.label,
            "created_at": iso(created_at),
            "updated_at": iso(state.since or created_at),
            # The state is only as fresh as its stalest check.
            "checked_at": iso(None if None in checked else min(checked, default=None)),
            "position": position,
            "showcase": True,
            "start_date": None,
            "group_id": None,
            "group": False,
            "only_show_if_degraded": False,
            "page_id": self.page_id,
            "url": url_for("public.server", code=server.code, _external=True),
        }

    @cached_property
    def posts_updated_at(self) -> datetime | None:
        return db.session.scalar(select(func.max(Post.updated_at)).where(Post.visible_clause(self.now)))

    @cached_property
    def page(self) -> dict[str, Any]:
        moments = [self.posts_updated_at, *(datetime.fromisoformat(c["updated_at"])
                                            for c in self.components if c["updated_at"])]
        return {
            "id": self.page_id,
            "name": current_app.config["SITE_NAME"],
            "url": url_for("public.home", _external=True),
            "time_zone": "Etc/UTC",
            "updated_at": iso(max((m for m in moments if m), default=self.now)),
        }

    def status(self) -> dict[str, Any]:
        """The page's indicator and its description: the site's level, as the banner shows it."""
        summary = site_summary(self.now)
        return {"indicator": summary.indicator, "description": summary.description}

    # ------------------------------------------------------------ incidents and maintenances

    def _posts(self, kind: PostKind, *conditions: Any, order: Any = None) -> list[Post]:
        return list(db.session.scalars(
            select(Post).where(Post.visible_clause(self.now), Post.kind == kind, *conditions)
            .options(selectinload(Post.servers))
            .order_by(*(order if order is not None else (Post.published_at.desc(), Post.id.desc())))
            .limit(LIST_LIMIT)))

    def incidents(self, unresolved_only: bool = False) -> list[dict[str, Any]]:
        """The newest published incidents, or only those not resolved yet."""
        conditions = (open_incident_clause(self.now),) if unresolved_only else ()
        return [self._incident(post) for post in self._posts(PostKind.INCIDENT, *conditions)]

    def maintenances(self, open_only: bool = False) -> list[dict[str, Any]]:
        """Published maintenance posts with a window, latest window first; or only those not over yet."""
        conditions = [Post.starts_at.is_not(None), Post.ends_at.is_not(None)]
        if open_only:
            latest = latest_update_state()
            conditions += [Post.ends_at > self.now,
                           (latest.is_(None)) | (latest != UpdateState.RESOLVED)]
        order = (Post.starts_at.asc(), Post.id.asc()) if open_only else (Post.starts_at.desc(), Post.id.desc())
        return [self._maintenance(post) for post in self._posts(PostKind.MAINTENANCE, *conditions, order=order)]

    def _incident(self, post: Post) -> dict[str, Any]:
        status = incident_status(post)
        affected = [self.components_by_server[s.id] for s in post.servers if s.id in self.components_by_server]
        return {**self._post_fields(post, affected), "status": status, "impact": self._impact(post, status, affected),
                "monitoring_at": iso(first_update_at(post, UpdateState.MONITORING)),
                "resolved_at": iso(incident_resolved_at(post))}

    @staticmethod
    def _impact(post: Post, status: str, affected: list[dict[str, Any]]) -> str:
        """The impact staff declared; else minor, or worse while open and the servers named are worse off."""
        if post.impact is not None:
            return post.impact.value
        level = 1
        if status != UpdateState.RESOLVED.value:
            level = max([level] + [COMPONENT_LEVELS[c["status"]] for c in affected])
        return INDICATORS[level]

    def _maintenance(self, post: Post) -> dict[str, Any]:
        affected = [self.components_by_server[s.id] for s in post.servers if s.id in self.components_by_server]
        status = maintenance_status(post, self.now)
        return {**self._post_fields(post, affected), "status": status, "impact": "maintenance",
                "scheduled_for": iso(post.starts_at), "scheduled_until": iso(post.ends_at),
                "monitoring_at": iso(first_update_at(post, UpdateState.MONITORING)),
                "resolved_at": iso(min(filter(None, (post.ends_at, first_update_at(post, UpdateState.RESOLVED))))
                                   if status == "completed" else None)}

    def _post_fields(self, post: Post, affected: list[dict[str, Any]]) -> dict[str, Any]:
        """What incidents and maintenances share: names, times, link, text, updates and components."""
        return {
            "id": post.slug,
            "name": post.title,
            "created_at": iso(post.published_at),
            "updated_at": iso(max([post.updated_at, post.published_at, *(u.created_at for u in post.updates)])),
            "started_at": iso(incident_started_at(post)),
            "shortlink": url_for("public.post", slug=post.slug, _external=True),
            "page_id": self.page_id,
            "body": post.body_text,
            "incident_updates": [self._update(post, update) for update in post.updates],
            "components": affected,
        }

    @staticmethod
    def _update(post: Post, update: PostUpdate) -> dict[str, Any]:
        states = MAINTENANCE_UPDATE_STATES if post.kind is PostKind.MAINTENANCE else {}
        return {
            "id": str(update.id),
            "incident_id": post.slug,
            "status": states.get(update.state, update.state.value),
            "body": html_to_text(update.body_html),
            "created_at": iso(update.created_at),
            "updated_at": iso(update.created_at),
            "display_at": iso(update.created_at),
            "affected_components": None,
            "deliver_notifications": False,
            "custom_tweet": None,
            "tweet_id": None,
        }
