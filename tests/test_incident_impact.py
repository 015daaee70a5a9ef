"""An open incident's declared server state, and the probes' own, agree on every surface that shows a server.

One walk reads the home page's sidebar (the server's label and its check
widgets), the server page, ``/api/servers``, ``/api/servers/<code>``, the
Statuspage documents and ``site_summary()``, and fails on any disagreement
about the label, its colour, since when it holds, and the site's level.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from ninerstatus.extensions import db
from ninerstatus.models import AffectedState, IncidentImpact, Post, PostKind, PostStatus, Server, UpdateState
from ninerstatus.probing import Status
from ninerstatus.site_status import site_summary
from ninerstatus.timeutil import utcnow

from .api.conftest import add_check, add_update, make_window
from .factories import make_post, make_server

#: The Statuspage component status of each label (see docs/states.md).
COMPONENT = {"OPERATIONAL": "operational", "DEGRADED": "degraded_performance", "UNKNOWN": "degraded_performance",
             "PARTIAL OUTAGE": "partial_outage", "OUTAGE": "major_outage", "UNDER MAINTENANCE": "under_maintenance"}


@pytest.fixture
def app_config():
    """Every document worked out afresh."""
    return {"API_CACHE_SECONDS": 0}


@dataclass(frozen=True)
class Seen:
    """What one surface says about the server."""

    label: str
    css: str | None
    since: datetime | None


def moment(text: str | None) -> datetime | None:
    """A time as the surfaces write it, to the millisecond the API keeps."""
    if text is None:
        return None
    parsed = datetime.fromisoformat(text)
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


def html_server(html: str) -> Seen:
    """The server's label, its colour and its since-time, from the markup the sidebar and server page share."""
    css = re.search(r'class="(?:server|server-facts) status-([\w-]+)"', html).group(1)
    label = re.search(r'<span class="state"[^>]*>([^<]+)</span>', html).group(1)
    since = re.search(r'<span class="state-since[^"]*">since <time datetime="([^"]+)" data-local>', html)
    return Seen(label, css, moment(since.group(1)) if since else None)


def html_checks(html: str) -> list[str]:
    """The statuses the check widgets in ``html`` show."""
    return re.findall(r'<span class="check-state">(\w+)</span>', html)


def sidebar_entry(client, code: str) -> str:
    page = client.get("/").get_data(as_text=True)
    glance = page[page.index("Systems at a Glance"):page.index("Recent Posts")]
    start = glance.rindex('<li class="server', 0, glance.index(f'href="/servers/{code}"'))
    end = glance.find('<li class="server', start + 1)
    return glance[start:end if end != -1 else None]


def server_page(client, code: str) -> str:
    page = client.get(f"/servers/{code}").get_data(as_text=True)
    return page[page.index("<h1>Server"):page.index("<h2>Posts about")]


def api_server(document: dict) -> Seen:
    return Seen(document["label"], document["label"].lower().replace(" ", "-"), moment(document["since"]))


def component(document: dict, code: str) -> Seen:
    [found] = [c for c in document["components"] if c["id"] == code]
    assert COMPONENT[found["label"]] == found["status"], found
    return Seen(found["label"], found["label"].lower().replace(" ", "-"), moment(found["updated_at"]))


def walk(app, client, code: str = "NC036") -> Seen:
    """Read every surface, fail on any disagreement, and return what they agree on."""
    sidebar, facts = sidebar_entry(client, code), server_page(client, code)
    listed = {s["code"]: s for s in client.get("/api/servers").get_json()["servers"]}[code]
    single = client.get(f"/api/servers/{code}").get_json()
    summary = client.get("/api/v2/summary.json").get_json()
    seen = {
        "sidebar": html_server(sidebar),
        "server page": html_server(facts),
        "/api/servers": api_server(listed),
        f"/api/servers/{code}": api_server(single),
        "summary.json": component(summary, code),
        "components.json": component(client.get("/api/v2/components.json").get_json(), code),
    }
    with app.app_context():
        summarised = site_summary()
    affected = {s.code: s for s in summarised.servers}.get(code)
    if affected is not None:
        seen["site_summary()"] = Seen(affected.label, affected.css, moment(affected.since and affected.since.isoformat()))
    shown = seen["sidebar"]
    # The API has no "since" for a label that is no news; the page says none either.
    agreeing = {name: s if s.label != "OPERATIONAL" else Seen(s.label, s.css, None) for name, s in seen.items()}
    assert all(s == Seen(shown.label, shown.css, shown.since) for s in agreeing.values()), seen
    # The summary lists servers in trouble; maintenance windows it lists on their own.
    assert (affected is not None) == (shown.label not in ("OPERATIONAL", "UNDER MAINTENANCE")), summarised.servers
    # The check widgets show the probes' own statuses, whatever holds the server.
    api_checks = [c["status"] for c in listed["checks"]]
    assert html_checks(sidebar) == api_checks and html_checks(facts) == api_checks
    expected_status = {"indicator": summarised.indicator, "description": summarised.description}
    assert summary["status"] == expected_status
    assert client.get("/api/v2/status.json").get_json()["status"] == expected_status
    return shown


def open_incident(server: Server, state: AffectedState | None, *, impact: IncidentImpact | None = None,
                  age: timedelta = timedelta(hours=1), title: str = "NC036 trouble") -> Post:
    """A published incident about ``server``, started ``age`` ago, its newest update "investigating"."""
    post = make_post(title, servers=(server,), age=age)
    post.affected_state, post.impact = state, impact
    add_update(post, UpdateState.INVESTIGATING, "<p>Looking into it.</p>", age - timedelta(minutes=10))
    return post


def checks(server: Server, *statuses: Status) -> datetime:
    """Give ``server`` a check per status, confirmed five minutes before each result; return that time."""
    made = [add_check(server, status, label=f"Check {n}") for n, status in enumerate(statuses)]
    return max(c.state_since for c in made)


@pytest.fixture
def server(ctx) -> Server:
    return make_server("NC036")


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.mark.parametrize("declared, label", [
    (AffectedState.DEGRADED, "DEGRADED"),
    (AffectedState.PARTIAL_OUTAGE, "PARTIAL OUTAGE"),
    (AffectedState.MAJOR_OUTAGE, "OUTAGE"),
])
def test_an_open_incident_holds_its_healthy_server_at_its_declared_state_since_it_began(
        ctx, client, server, declared, label):
    checks(server, Status.OK, Status.OK)
    incident = open_incident(server, declared)
    shown = walk(ctx, client)
    assert (shown.label, shown.since) == (label, moment(incident.published_at.isoformat()))
    assert "NC036 trouble" in server_page(client, "NC036"), "the server names the incident holding it"
    assert client.get("/api/servers/NC036").get_json()["incident"] == {
        "name": "NC036 trouble", "url": f"http://status.test/posts/{incident.slug}"}


def test_probes_worse_than_the_floor_win_with_their_own_since(ctx, client, server):
    down_since = checks(server, Status.CRITICAL, Status.CRITICAL)
    open_incident(server, AffectedState.DEGRADED)
    shown = walk(ctx, client)
    assert (shown.label, shown.since) == ("OUTAGE", moment(down_since.isoformat()))


def test_a_floor_worse_than_a_partial_outage_from_the_probes_makes_it_an_outage(ctx, client, server):
    checks(server, Status.OK, Status.CRITICAL)
    incident = open_incident(server, AffectedState.MAJOR_OUTAGE, impact=IncidentImpact.CRITICAL)
    shown = walk(ctx, client)
    assert (shown.label, shown.since) == ("OUTAGE", moment(incident.published_at.isoformat()))
    assert site_summary().level == "major_outage"


def test_a_resolved_incident_holds_nothing(ctx, client, server):
    checks(server, Status.OK, Status.OK)
    incident = open_incident(server, AffectedState.MAJOR_OUTAGE, impact=IncidentImpact.CRITICAL)
    add_update(incident, UpdateState.RESOLVED, "<p>Fixed.</p>", timedelta(minutes=1))
    assert walk(ctx, client).label == "OPERATIONAL"
    assert site_summary().level == "operational"


def test_an_incident_without_a_declared_state_holds_nothing(ctx, client, server):
    checks(server, Status.OK)
    open_incident(server, None)
    assert walk(ctx, client).label == "OPERATIONAL"


def test_a_partial_outage_from_the_probes_alone_since_the_runner_recorded_it(ctx, client, server):
    checks(server, Status.OK, Status.CRITICAL)
    recorded = utcnow() - timedelta(minutes=3)
    server.state, server.state_since = "partial_outage", recorded
    db.session.commit()
    shown = walk(ctx, client)
    assert (shown.label, shown.css, shown.since) == ("PARTIAL OUTAGE", "partial-outage", moment(recorded.isoformat()))
    assert site_summary().level == "partial_outage"


def test_an_open_incident_outranks_a_maintenance_window_on_its_server(ctx, client, server):
    checks(server, Status.CRITICAL)
    incident = open_incident(server, AffectedState.DEGRADED)
    make_window("Kernel update", (server,), -timedelta(minutes=5), timedelta(hours=1))
    shown = walk(ctx, client)
    assert (shown.label, shown.since) == ("DEGRADED", moment(incident.published_at.isoformat()))
    assert "maintenance until" in server_page(client, "NC036")


def test_a_maintenance_window_says_since_it_opened(ctx, client, server):
    checks(server, Status.CRITICAL)
    window = make_window("Kernel update", (server,), -timedelta(minutes=5), timedelta(hours=1))
    shown = walk(ctx, client)
    assert (shown.label, shown.since) == ("UNDER MAINTENANCE", moment(window.starts_at.isoformat()))


def test_drafts_notices_and_incidents_not_published_yet_hold_nothing(ctx, client, server):
    checks(server, Status.OK)
    draft = open_incident(server, AffectedState.MAJOR_OUTAGE)
    draft.status = PostStatus.DRAFT
    notice = make_post("Certificates renewed", kind=PostKind.NOTICE, servers=(server,))
    notice.affected_state = AffectedState.MAJOR_OUTAGE
    open_incident(server, AffectedState.MAJOR_OUTAGE, age=-timedelta(hours=1), title="Published in an hour")
    db.session.commit()
    assert walk(ctx, client).label == "OPERATIONAL"
