"""What the v2 documents say: component statuses, the page indicator, incidents, maintenances, caching."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ninerstatus.extensions import db
from ninerstatus.models import IncidentImpact, PostKind, PostStatus, UpdateState, Visibility
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from ..factories import make_post, make_server
from .conftest import add_check, add_update, make_window

NO_RESULT = None


def components(client) -> dict[str, dict]:
    return {c["id"]: c for c in client.get("/api/v2/components.json").get_json()["components"]}


def incidents(client, path: str = "incidents.json") -> dict[str, dict]:
    return {i["name"]: i for i in client.get(f"/api/v2/{path}").get_json()["incidents"]}


def maintenances(client, path: str = "scheduled-maintenances.json") -> dict[str, dict]:
    return {m["name"]: m for m in client.get(f"/api/v2/{path}").get_json()["scheduled_maintenances"]}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def same_moment(text: str, moment: datetime) -> bool:
    """True when the API's time (in milliseconds) is ``moment``."""
    return abs(when(text) - moment) < timedelta(milliseconds=1)


# ------------------------------------------------------------------ components


@pytest.mark.parametrize("statuses, expected, label", [
    ([Status.OK], "operational", "OPERATIONAL"),
    ([], "operational", "OPERATIONAL"),
    ([Status.OK, Status.WARNING], "degraded_performance", "DEGRADED"),
    ([Status.OK, Status.CRITICAL], "partial_outage", "PARTIAL OUTAGE"),
    ([Status.CRITICAL, Status.CRITICAL], "major_outage", "OUTAGE"),
    ([Status.OK, NO_RESULT], "degraded_performance", "UNKNOWN"),
])
def test_a_server_is_a_component_with_the_state_visitors_see(ctx, client, statuses, expected, label):
    server = make_server("NC036", role="Mail server")
    for status in statuses:
        add_check(server, status)
    component = components(client)["NC036"]
    assert (component["status"], component["label"]) == (expected, label)
    assert component["name"] == "NC036" and component["description"] == "Mail server, Amsterdam, Netherlands"
    assert component["url"] == "http://status.test/servers/NC036"


def test_a_check_whose_runner_went_quiet_is_never_operational(ctx, client):
    add_check(make_server("NC036"), Status.OK, age=600)
    component = components(client)["NC036"]
    assert (component["status"], component["label"]) == ("degraded_performance", "UNKNOWN")


def test_internal_and_disabled_checks_do_not_count(ctx, client):
    server = make_server("NC036")
    add_check(server, Status.OK)
    add_check(server, Status.CRITICAL, visibility=Visibility.INTERNAL)
    add_check(server, Status.CRITICAL, enabled=False)
    assert components(client)["NC036"]["status"] == "operational"


def test_a_server_in_an_open_maintenance_window_is_under_maintenance(ctx, client):
    server = make_server("NC036")
    add_check(server, Status.CRITICAL)
    make_window("Kernel update", (server,), -timedelta(minutes=5), timedelta(hours=1))
    component = components(client)["NC036"]
    assert (component["status"], component["label"]) == ("under_maintenance", "UNDER MAINTENANCE")


def test_components_follow_the_sidebar_order_and_say_when_they_were_checked(ctx, client):
    first = make_server("NC041", display_order=1)
    add_check(first, Status.OK, age=30)
    add_check(first, Status.OK, age=5)
    make_server("NC036", display_order=2)
    listed = client.get("/api/v2/components.json").get_json()["components"]
    assert [(c["id"], c["position"]) for c in listed] == [("NC041", 1), ("NC036", 2)]
    checked = when(listed[0]["checked_at"])
    assert timedelta(seconds=25) < utcnow() - checked < timedelta(seconds=40), "the stalest check vouches"
    assert listed[1]["checked_at"] is None


# ------------------------------------------------------------------ the page and its indicator


@pytest.mark.parametrize("servers, indicator, description", [
    ([[Status.OK], [Status.OK]], "none", "All Systems Operational"),
    ([[Status.OK], [Status.WARNING]], "minor", "Partially Degraded Service"),
    ([[Status.OK], [Status.OK, Status.CRITICAL]], "major", "Partial System Outage"),
    ([[Status.OK], [Status.CRITICAL]], "major", "Partial System Outage"),
    ([[Status.CRITICAL], [Status.CRITICAL]], "critical", "Major System Outage"),
])
def test_the_page_indicator_follows_the_worst_component(ctx, client, servers, indicator, description):
    for number, statuses in enumerate(servers):
        server = make_server(f"NC{number:03}")
        for status in statuses:
            add_check(server, status)
    assert client.get("/api/v2/status.json").get_json()["status"] == {"indicator": indicator,
                                                                      "description": description}


def test_maintenance_alone_is_no_trouble(ctx, client):
    server = make_server("NC036")
    make_window("Kernel update", (server,), -timedelta(minutes=5), timedelta(hours=1))
    assert client.get("/api/v2/status.json").get_json()["status"] == {
        "indicator": "none", "description": "Service Under Maintenance"}


def test_an_open_incident_is_at_least_minor_and_as_bad_as_its_servers(ctx, client):
    fine, down = make_server("NC036"), make_server("NC041")
    add_check(fine, Status.OK)
    add_check(down, Status.CRITICAL)
    add_check(down, Status.OK)
    quiet = make_post("Slow webmail", servers=(fine,))
    add_update(quiet, UpdateState.INVESTIGATING, "<p>Looking.</p>", timedelta(minutes=5))
    loud = make_post("Web server unreachable", servers=(down,))
    add_update(loud, UpdateState.IDENTIFIED, "<p>Found it.</p>", timedelta(minutes=5))
    listed = incidents(client, "incidents/unresolved.json")
    assert (listed["Slow webmail"]["impact"], listed["Web server unreachable"]["impact"]) == ("minor", "major")


def test_an_incident_has_the_impact_staff_declared_open_or_resolved(ctx, client):
    down = make_server("NC041")
    add_check(down, Status.CRITICAL)
    calm = make_post("Planned reboot went long", servers=(down,))
    calm.impact = IncidentImpact.NONE
    grave = make_post("Mail lost", servers=(make_server("NC036"),))
    grave.impact = IncidentImpact.CRITICAL
    for post in (calm, grave):
        add_update(post, UpdateState.INVESTIGATING, "<p>Looking.</p>", timedelta(minutes=5))
    listed = incidents(client, "incidents/unresolved.json")
    assert (listed["Planned reboot went long"]["impact"], listed["Mail lost"]["impact"]) == ("none", "critical")
    assert client.get("/api/v2/status.json").get_json()["status"]["indicator"] == "critical"
    add_update(grave, UpdateState.RESOLVED, "<p>Found it all.</p>", timedelta(minutes=1))
    assert incidents(client)["Mail lost"]["impact"] == "critical"
    # Resolved, it no longer sets the page's level: NC041's outage alone does.
    assert client.get("/api/v2/status.json").get_json()["status"]["indicator"] == "major"


def test_an_open_incident_on_healthy_servers_still_makes_the_page_minor(ctx, client):
    server = make_server("NC036")
    add_check(server, Status.OK)
    incident = make_post("Some mail bounces", servers=(server,))
    add_update(incident, UpdateState.INVESTIGATING, "<p>Looking.</p>", timedelta(minutes=5))
    assert client.get("/api/v2/status.json").get_json()["status"]["indicator"] == "minor"
    add_update(incident, UpdateState.RESOLVED, "<p>Fixed.</p>", timedelta(minutes=1))
    assert client.get("/api/v2/status.json").get_json()["status"]["indicator"] == "none"


def test_the_page_names_the_site_and_moves_only_with_what_visitors_see(ctx, client):
    published = make_post("Published", age=timedelta(hours=2))
    draft = make_post("Draft", status=PostStatus.DRAFT)
    draft.updated_at = utcnow() + timedelta(minutes=1)
    db.session.commit()
    page = client.get("/api/v2/status.json").get_json()["page"]
    assert (page["name"], page["url"], page["time_zone"]) == ("System Status", "http://status.test/", "Etc/UTC")
    assert same_moment(page["updated_at"], published.updated_at)


# ------------------------------------------------------------------ incidents


def test_an_incident_tells_its_timeline_newest_first_in_plain_text(client, site):
    incident = incidents(client)["NC036: Delayed mail"]
    assert incident["id"] == site.incident.slug
    assert incident["shortlink"] == f"http://status.test/posts/{site.incident.slug}"
    assert incident["status"] == "resolved"
    assert [(u["status"], u["body"]) for u in incident["incident_updates"]] == [
        ("resolved", "Queues drained by 02:15."), ("investigating", "Looking into it.")]
    assert incident["resolved_at"] == incident["incident_updates"][0]["created_at"]
    assert incident["body"] == "Queues were slow."
    assert [c["id"] for c in incident["components"]] == ["NC036"]


def test_an_incident_reports_when_monitoring_began(client, site):
    update = add_update(site.incident, UpdateState.MONITORING, "<p>Watching.</p>", timedelta(minutes=90))
    incident = incidents(client)["NC036: Delayed mail"]
    assert same_moment(incident["monitoring_at"], update.created_at)


def test_an_incident_without_updates_is_a_report_of_something_over_as_of_its_publication(ctx, client):
    post = make_post("NC035: Zone transfers stopped")
    incident = incidents(client)["NC035: Zone transfers stopped"]
    assert (incident["status"], incident["incident_updates"]) == ("resolved", [])
    assert same_moment(incident["resolved_at"], post.published_at)
    assert incidents(client, "incidents/unresolved.json") == {}


def test_unresolved_lists_only_incidents_whose_newest_update_is_not_resolved(client, site):
    reopened = make_post("NC036: Mail again", servers=(site.mail,))
    add_update(reopened, UpdateState.RESOLVED, "<p>Fixed.</p>", timedelta(minutes=20))
    add_update(reopened, UpdateState.INVESTIGATING, "<p>It is back.</p>", timedelta(minutes=10))
    assert list(incidents(client, "incidents/unresolved.json")) == ["NC036: Mail again"]
    summary = client.get("/api/v2/summary.json").get_json()
    assert [i["name"] for i in summary["incidents"]] == ["NC036: Mail again"]


def test_notices_and_maintenance_posts_are_not_incidents(client, site):
    make_window("Kernel update", (site.mail,), timedelta(hours=1), timedelta(hours=1))
    assert list(incidents(client)) == ["NC036: Delayed mail"]


def test_incidents_lists_the_50_newest(ctx, client):
    for age in range(55):
        make_post(f"Incident {age}", age=timedelta(hours=age + 1))
    names = list(incidents(client))
    assert len(names) == 50 and names[0] == "Incident 0" and names[-1] == "Incident 49"


# ------------------------------------------------------------------ scheduled maintenances


def test_a_maintenance_is_scheduled_then_in_progress_then_completed(ctx, client):
    server = make_server("NC036")
    make_window("Tomorrow", (server,), timedelta(days=1), timedelta(hours=2))
    make_window("Now", (server,), -timedelta(minutes=10), timedelta(hours=1))
    make_window("Yesterday", (server,), -timedelta(days=1), timedelta(hours=1))
    listed = maintenances(client)
    assert {name: m["status"] for name, m in listed.items()} == {
        "Tomorrow": "scheduled", "Now": "in_progress", "Yesterday": "completed"}
    assert list(listed) == ["Tomorrow", "Now", "Yesterday"], "latest window first"
    tomorrow = listed["Tomorrow"]
    assert tomorrow["impact"] == "maintenance"
    assert when(tomorrow["scheduled_until"]) - when(tomorrow["scheduled_for"]) == timedelta(hours=2)
    assert [c["id"] for c in tomorrow["components"]] == ["NC036"]
    assert listed["Yesterday"]["resolved_at"] == listed["Yesterday"]["scheduled_until"]
    assert list(maintenances(client, "scheduled-maintenances/upcoming.json")) == ["Tomorrow"]
    assert list(maintenances(client, "scheduled-maintenances/active.json")) == ["Now"]
    summary = client.get("/api/v2/summary.json").get_json()
    assert [m["name"] for m in summary["scheduled_maintenances"]] == ["Now", "Tomorrow"]


def test_a_maintenance_being_checked_is_verifying_and_one_called_done_is_completed(ctx, client):
    server = make_server("NC036")
    checking = make_window("Checking", (server,), -timedelta(minutes=30), timedelta(hours=1))
    add_update(checking, UpdateState.MONITORING, "<p>Back up; watching.</p>", timedelta(minutes=1))
    done = make_window("Done early", (server,), -timedelta(minutes=30), timedelta(hours=1))
    finished = add_update(done, UpdateState.RESOLVED, "<p>All done.</p>", timedelta(minutes=2))
    listed = maintenances(client)
    assert (listed["Checking"]["status"], listed["Done early"]["status"]) == ("verifying", "completed")
    assert [u["status"] for u in listed["Checking"]["incident_updates"]] == ["verifying"]
    assert same_moment(listed["Done early"]["resolved_at"], finished.created_at)
    assert list(maintenances(client, "scheduled-maintenances/active.json")) == ["Checking"]


def test_a_maintenance_post_without_a_window_is_not_a_scheduled_maintenance(ctx, client):
    make_post("Status site moved", kind=PostKind.MAINTENANCE)
    assert maintenances(client) == {}
