"""The Statuspage-compatible endpoints under /api/v2 (see statuspage.py for how the site maps onto them)."""
from __future__ import annotations

from ..timeutil import utcnow
from . import bp
from .caching import remembered
from .statuspage import StatusPage


@bp.get("/v2/summary.json")
@remembered
def summary():
    """The page, its components, open incidents, maintenances not over yet, and the overall status."""
    page = StatusPage(utcnow())
    return {"page": page.page, "components": page.components, "incidents": page.incidents(unresolved_only=True),
            "scheduled_maintenances": page.maintenances(open_only=True), "status": page.status()}


@bp.get("/v2/status.json")
@remembered
def status():
    """The overall status: an indicator (none, minor, major, critical) and its description."""
    page = StatusPage(utcnow())
    return {"page": page.page, "status": page.status()}


@bp.get("/v2/components.json")
@remembered
def components():
    """Every public server as a component with its live status."""
    page = StatusPage(utcnow())
    return {"page": page.page, "components": page.components}


@bp.get("/v2/incidents.json")
@remembered
def incidents():
    """The 50 newest published incidents, resolved or not, with their updates."""
    page = StatusPage(utcnow())
    return {"page": page.page, "incidents": page.incidents()}


@bp.get("/v2/incidents/unresolved.json")
@remembered
def unresolved_incidents():
    """Published incidents whose newest update is not "resolved"."""
    page = StatusPage(utcnow())
    return {"page": page.page, "incidents": page.incidents(unresolved_only=True)}


@bp.get("/v2/scheduled-maintenances.json")
@remembered
def scheduled_maintenances():
    """The 50 published maintenance windows that start latest, past ones included."""
    page = StatusPage(utcnow())
    return {"page": page.page, "scheduled_maintenances": page.maintenances()}


@bp.get("/v2/scheduled-maintenances/upcoming.json")
@remembered
def upcoming_maintenances():
    """Published maintenance windows that have not started yet."""
    page = StatusPage(utcnow())
    return {"page": page.page, "scheduled_maintenances": [
        m for m in page.maintenances(open_only=True) if m["status"] == "scheduled"]}


@bp.get("/v2/scheduled-maintenances/active.json")
@remembered
def active_maintenances():
    """Published maintenance windows open now."""
    page = StatusPage(utcnow())
    return {"page": page.page, "scheduled_maintenances": [
        m for m in page.maintenances(open_only=True) if m["status"] in ("in_progress", "verifying")]}
