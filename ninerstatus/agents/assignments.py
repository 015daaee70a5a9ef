"""What an agent is told: its location and the checks assigned to it, with what it needs to probe them.

Only the agent's own checks are listed; a check's settings, secrets
included, go only to the locations assigned to it (over TLS, to an agent
that proved who it is). A check that cannot be probed as stored (see
checks/validity.py) is left out: the site's runner reports it to staff.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..checks.models import Check
from ..checks.validity import check_problem
from ..extensions import db
from ..plugins import get_plugins
from .models import CheckLocation, Location

log = logging.getLogger(__name__)

#: The version of the agent API (the ``v1`` in its address); bumped only for changes old agents cannot read.
PROTOCOL = 1
#: The largest CA file sent to agents with a check that trusts its own CAs.
MAX_CA_BYTES = 256 * 1024


def assigned_checks(location: Location) -> list[Check]:
    """The enabled checks assigned to ``location``, in id order."""
    return list(db.session.scalars(
        select(Check).join(CheckLocation, CheckLocation.check_id == Check.id)
        .where(CheckLocation.location_id == location.id, Check.enabled.is_(True))
        .options(joinedload(Check.server)).order_by(Check.id)))


def _ca_pem(path: str | None) -> str | None:
    """The CA file a check trusts, as text, for agents (which do not share the site's files)."""
    if not path:
        return None
    try:
        data = Path(path).read_bytes()[:MAX_CA_BYTES + 1]
    except OSError as error:
        log.warning("the CA file %s of a check cannot be read for agents: %s", path, error)
        return None
    return data.decode("ascii", errors="replace") if len(data) <= MAX_CA_BYTES else None


def check_document(check: Check) -> dict[str, Any]:
    """One assigned check as the agent probes it."""
    return {
        "id": check.id,
        "type": check.type_name,
        "name": check.title,
        "server": check.server.code,
        "target": {"host": check.host, "port": check.port, "family": check.family.value,
                   "tls": check.tls_mode.value, "tls_name": check.tls_name},
        "tls_policy": {"verify": check.tls_verify, "ca_pem": _ca_pem(check.ca_file), "warn_days": check.warn_days,
                       "crit_days": check.crit_days},
        "settings": check.probe_settings(),
        "interval_seconds": check.interval_seconds,
        "timeout_seconds": check.timeout_seconds,
    }


def assignments_document(location: Location, now: float) -> dict[str, Any]:
    """The answer to ``GET /api/agent/v1/assignments`` for ``location`` at the site's Unix time ``now``."""
    check_types = get_plugins(current_app).check_types
    checks = []
    for check in assigned_checks(location):
        problem = check_problem(check, check_types)
        if problem is None:
            checks.append(check_document(check))
        else:
            log.info("not sending check %s to location %s: %s", check.id, location.name, problem)
    return {
        "protocol": PROTOCOL,
        "server_time": now,
        "location": {"name": location.name, "city": location.city, "country": location.country,
                     "network": location.network},
        "checks": checks,
    }
