"""A server's location by service grid: what each probe location saw last of each of its public checks.

Shown on a server's page (``public/_locations.html``) only when at least one
of its public checks is probed from more than one active location, so a
site without agents draws nothing new and asks the database nothing more.
Rows are the locations (the site's runner first), columns the server's
public, enabled checks; a cell is that location's latest result, or a dash
where the location does not probe the check.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..checks.listing import ListedCheck, ListedServer
from ..checks.located import LocatedResult, located_of, location_order, several_locations
from ..checks.status import public_checks
from ..timeutil import utcnow
from . import bp


@dataclass(frozen=True)
class GridRow:
    """One location and its latest result of each column's check (None where it does not probe that check)."""

    location: LocatedResult
    cells: tuple[LocatedResult | None, ...]


@dataclass(frozen=True)
class LocationGrid:
    """The grid of one server: its public checks as columns, its active locations as rows."""

    checks: tuple[ListedCheck, ...]
    rows: tuple[GridRow, ...]


@bp.app_template_global()
def location_grid(server: ListedServer, now: datetime | None = None) -> LocationGrid | None:
    """The grid of ``server``, or None when none of its public checks is probed from several locations."""
    if not server.is_public:
        return None
    checks = public_checks(server)
    if not several_locations(checks):
        return None
    located = located_of(checks, now or utcnow())
    locations: dict[int, LocatedResult] = {}
    for items in located.values():
        for item in items:
            locations.setdefault(item.location_id, item)
    order = sorted(locations.values(), key=location_order)
    by_location = {check.id: {item.location_id: item for item in located[check.id]} for check in checks}
    rows = tuple(GridRow(location, tuple(by_location[check.id].get(location.location_id) for check in checks))
                 for location in order)
    return LocationGrid(checks, rows)
