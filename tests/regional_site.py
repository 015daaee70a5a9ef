"""A site with a regional problem, recorded the way the runner and agents record it: what visitors' pages and API show.

NC036 has two public checks. Submission is probed by the site's runner, by
agents in Lusaka (MTN) and Frankfurt, and by a Nairobi agent that has been
silent for ten minutes; IMAP by the site's runner and Frankfurt only. The
submission port times out from Lusaka, for long enough to be confirmed there.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ninerstatus.agents.locations import issue_token, site_location
from ninerstatus.agents.models import CheckLocation, Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins
from ninerstatus.probing import ErrorKind, ProbeResult, Status
from ninerstatus.runner.claims import Claim
from ninerstatus.runner.results import Outcome, record_located, record_results
from ninerstatus.runner.transactions import write_transaction
from ninerstatus.timeutil import utcnow

from .factories import make_server

TIMED_OUT = "connection timed out on port 587"


@dataclass(frozen=True)
class RegionalSite:
    """The ids a test needs, and the moment the latest round was probed."""

    server: int
    submission: int
    imap: int
    lusaka: int
    frankfurt: int
    nairobi: int
    now: datetime


def probe_result(status: Status, moment: datetime, summary: str | None = None) -> ProbeResult:
    """A result as a probe writes it: a timeout when CRITICAL, a working STARTTLS otherwise."""
    failing = status is Status.CRITICAL
    return ProbeResult(status, summary or (TIMED_OUT if failing else "STARTTLS ok"), checked_at=moment,
                       error_kind=ErrorKind.CONNECT_TIMEOUT if failing else None)


def from_site(check_id: int, status: Status, moment: datetime) -> None:
    """The site's runner records one result of ``check_id``."""
    outcome = Outcome(Claim(check_id, moment, 10.0), probe_result(status, moment), False)
    record_results("test-runner", [outcome], get_plugins(), moment)


def from_agent(location_id: int, check_id: int, status: Status, moment: datetime) -> None:
    """An agent's batch of one result of ``check_id`` is recorded."""
    with write_transaction():
        record_located(db.session.get(Location, location_id), [(check_id, probe_result(status, moment))],
                       get_plugins(), moment)


def add_agent(name: str, check_ids: list[int], network: str = "", city: str = "", country: str = "") -> int:
    """An agent location with a working token, probing ``check_ids``."""
    location = Location(name=name, network=network, city=city, country=country)
    db.session.add(location)
    db.session.flush()
    db.session.add_all(CheckLocation(check_id=check_id, location_id=location.id) for check_id in check_ids)
    issue_token(location)
    db.session.commit()
    return location.id


def make_regional_site(lusaka_status: Status = Status.CRITICAL, frankfurt_status: Status = Status.OK,
                       site_status: Status = Status.OK) -> RegionalSite:
    """NC036 as the module says, after three rounds of probes ending a few seconds ago."""
    server = make_server("NC036", role="Mail server", city="Lusaka", country="Zambia")
    submission = Check(server=server, type_name="smtp", label="Submission", host="mail.example.net", port=587,
                       interval_seconds=60, failures_before_down=2, successes_before_up=1)
    imap = Check(server=server, type_name="imap", label="IMAP", host="mail.example.net", port=993,
                 interval_seconds=60, display_order=1)
    db.session.add_all([submission, imap])
    db.session.commit()
    site_location()
    db.session.commit()
    lusaka = add_agent("Lusaka", [submission.id], network="MTN", city="Lusaka", country="Zambia")
    frankfurt = add_agent("Frankfurt", [submission.id, imap.id], network="Hetzner", city="Frankfurt",
                          country="Germany")
    nairobi = add_agent("Nairobi", [submission.id], network="Safaricom", city="Nairobi", country="Kenya")
    now = utcnow()
    from_agent(nairobi, submission.id, Status.OK, now - timedelta(minutes=10))
    for minutes in (3, 2, 1):
        moment = now - timedelta(minutes=minutes)
        from_agent(lusaka, submission.id, lusaka_status, moment)
        from_agent(frankfurt, submission.id, frankfurt_status, moment + timedelta(seconds=5))
        from_agent(frankfurt, imap.id, Status.OK, moment + timedelta(seconds=6))
        from_site(imap.id, Status.OK, moment + timedelta(seconds=8))
        from_site(submission.id, site_status, moment + timedelta(seconds=10))
    return RegionalSite(server.id, submission.id, imap.id, lusaka, frankfurt, nairobi, now)
