"""Every API document matches the schema in statuspage-v2.schema.json (Statuspage's v2 public shapes)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.models import UpdateState
from ninerstatus.probing import Status

from ..factories import make_post, make_server
from .conftest import add_check, add_update, assert_shape, make_window

DOCUMENTS = [
    ("/api/v2/summary.json", "summary_document"),
    ("/api/v2/status.json", "status_document"),
    ("/api/v2/components.json", "components_document"),
    ("/api/v2/incidents.json", "incidents_document"),
    ("/api/v2/incidents/unresolved.json", "incidents_document"),
    ("/api/v2/scheduled-maintenances.json", "scheduled_maintenances_document"),
    ("/api/v2/scheduled-maintenances/upcoming.json", "scheduled_maintenances_document"),
    ("/api/v2/scheduled-maintenances/active.json", "scheduled_maintenances_document"),
    ("/api/servers", "servers_document"),
    ("/api/servers/NC036", "server"),
    ("/api/servers/NC023", "server"),
]


@pytest.fixture
def busy_site(site):
    """The ``site``, plus servers in every state, an open incident and maintenances past, present and future."""
    web = make_server("NC041", role="Web server")
    add_check(web, Status.WARNING, "slow answers")
    add_check(web, Status.CRITICAL, "connection refused", label="HTTPS")
    dns = make_server("NC033", role="Primary nameserver")
    add_check(dns, None)
    make_server("NC042", role="Status website")
    make_post("NC041: Report after the fact", servers=(web,))
    add_update(site.incident, UpdateState.MONITORING, "<p>Watching.</p>", timedelta(minutes=30))
    make_window("Mail kernel update", (site.mail,), timedelta(hours=5), timedelta(hours=1))
    ongoing = make_window("Web server move", (web,), -timedelta(minutes=10), timedelta(hours=1))
    add_update(ongoing, UpdateState.MONITORING, "<p>Moved; watching.</p>", timedelta(minutes=2))
    make_window("Old DNS work", (dns,), -timedelta(days=3), timedelta(hours=1))
    return site


@pytest.mark.parametrize("url, definition", DOCUMENTS)
def test_each_document_has_its_shape(client, busy_site, url, definition):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert_shape(response.get_json(), definition)


@pytest.mark.parametrize("url, definition", DOCUMENTS[:-3])
def test_an_empty_site_has_the_same_shapes(client, ctx, url, definition):
    assert_shape(client.get(url).get_json(), definition)


def test_the_schema_refuses_a_field_it_does_not_list(client, site):
    document = client.get("/api/v2/components.json").get_json()
    document["components"][0]["transcript"] = ["S: 220 hello"]
    with pytest.raises(AssertionError, match="transcript"):
        assert_shape(document, "components_document")



def test_the_schema_refuses_a_resolved_incident_without_its_resolution_time(client, site):
    document = client.get("/api/v2/incidents.json").get_json()
    assert_shape(document, "incidents_document")
    document["incidents"][0]["resolved_at"] = None
    with pytest.raises(AssertionError, match="resolved_at"):
        assert_shape(document, "incidents_document")
