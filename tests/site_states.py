"""The site in each state visitors can find it in, written straight into the database.

Ten public servers with one probed check each, a resolved incident with a
timeline and a notice; then each state adds what makes it so: failing checks,
an open incident, a maintenance window under way or ahead. Results are as the
probe runner leaves them (a confirmed state and since when), so the states do
not depend on a runner being alive, only on the results being recent.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.models import IncidentImpact, Post, PostKind, PostUpdate, Server, UpdateState
from ninerstatus.probing import ProbeResult, Status, Timings

from .factories import make_post, make_server

SERVER_CODES = tuple(f"NC0{number}" for number in range(31, 41))
#: The states the banner has words for, and two that list something while all is operational.
STATES = ("operational", "degraded", "partial_outage", "major_outage", "maintenance", "open_incident",
          "upcoming_window")
HEADLINES = {"operational": "All systems operational", "degraded": "Degraded service",
             "partial_outage": "Partial outage", "major_outage": "Major outage",
             "maintenance": "Under maintenance", "open_incident": "Partial outage",
             "upcoming_window": "All systems operational"}


def set_check(check: Check, status: Status, summary: str, since: datetime, now: datetime) -> None:
    """Give ``check`` a result 12 s old, confirmed by the runner since ``since``."""
    check.record(ProbeResult(status, summary, timings=Timings(total=0.021), checked_at=now - timedelta(seconds=12)))
    check.state, check.state_since = status.name.lower(), since


def fail(code: str, status: Status, since: datetime, now: datetime) -> None:
    """Make server ``code``'s check (and so the server) ``status`` since ``since``."""
    server = db.session.scalar(db.select(Server).where(Server.code == code))
    set_check(server.checks[0], status, "connection refused" if status is Status.CRITICAL else "slow answer",
              since, now)
    server.state, server.state_since = status.name.lower(), since
    db.session.commit()


def add_update(post: Post, state: UpdateState, body: str, at: datetime) -> None:
    update = PostUpdate(post=post, state=state, created_at=at)
    update.set_body(body)
    db.session.add(update)
    db.session.commit()


def base_site(now: datetime) -> None:
    """Ten operational servers, a resolved incident with its timeline and a newer notice."""
    for order, code in enumerate(SERVER_CODES):
        server = make_server(code, display_order=order, city="Amsterdam", role="Mail server")
        check = Check(server=server, type_name="smtp", label="Submission", host="127.0.0.1", port=587, settings={})
        set_check(check, Status.OK, "STARTTLS ok", now - timedelta(days=3), now)
        db.session.add(check)
        server.state, server.state_since = "ok", now - timedelta(days=3)
    db.session.commit()
    incident = make_post("Mail delivery delayed on NC036", "<p>Mail queued for up to an hour.</p>",
                         published_at=now - timedelta(days=2), kind=PostKind.INCIDENT)
    add_update(incident, UpdateState.INVESTIGATING, "<p>We are looking into delays.</p>", now - timedelta(days=2))
    add_update(incident, UpdateState.RESOLVED, "<p>All queued mail was delivered.</p>",
               now - timedelta(days=2) + timedelta(hours=1))
    make_post("Webmail answers slowly for some customers", "<p>Some webmail pages take a few seconds to open.</p>",
              published_at=now - timedelta(hours=3), kind=PostKind.NOTICE)


def window(now: datetime, starts_in: timedelta) -> Post:
    """A published maintenance window on NC036 two hours long, starting ``starts_in`` from ``now``."""
    nc036 = db.session.scalar(db.select(Server).where(Server.code == "NC036"))
    post = make_post("Kernel update on NC036", "<p>NC036 restarts once during the window.</p>",
                     published_at=now - timedelta(days=1), kind=PostKind.MAINTENANCE, servers=(nc036,))
    post.starts_at, post.ends_at = now + starts_in, now + starts_in + timedelta(hours=2)
    db.session.commit()
    return post


def open_incident(now: datetime) -> Post:
    """An incident on NC036 of major impact, opened 25 minutes before ``now``, now identified."""
    nc036 = db.session.scalar(db.select(Server).where(Server.code == "NC036"))
    post = make_post("IMAP logins failing on NC036", "<p>Customers cannot sign in to read mail.</p>",
                     published_at=now - timedelta(minutes=25), kind=PostKind.INCIDENT, servers=(nc036,))
    post.impact = IncidentImpact.MAJOR
    add_update(post, UpdateState.INVESTIGATING, "<p>We are looking into failed logins.</p>",
               now - timedelta(minutes=25))
    add_update(post, UpdateState.IDENTIFIED, "<p>A full disk on the mail store stops logins; we are freeing "
               "space now.</p>", now - timedelta(minutes=10))
    return post


def build(state: str, now: datetime) -> None:
    """Write the site in ``state`` (one of ``STATES``) as of ``now``; call inside an app context."""
    base_site(now)
    since = now - timedelta(minutes=42)
    if state == "degraded":
        fail("NC036", Status.WARNING, since, now)
    elif state == "partial_outage":
        fail("NC036", Status.CRITICAL, since, now)
    elif state == "major_outage":
        for code in SERVER_CODES:
            fail(code, Status.CRITICAL, since, now)
    elif state == "maintenance":
        window(now, -timedelta(minutes=30))
    elif state == "open_incident":
        open_incident(now)
    elif state == "upcoming_window":
        window(now, timedelta(hours=3))
    elif state != "operational":
        raise ValueError(f"no such state: {state}")
