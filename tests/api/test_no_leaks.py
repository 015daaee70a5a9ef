"""Every API URL, walked with drafts, scheduled posts, internal checks, transcripts and settings present."""
from __future__ import annotations

import pytest

from .conftest import SECRETS


def api_urls(app, codes: list[str]) -> list[str]:
    """Every GET route of the API blueprint, with each server code filled in where a route takes one."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and "GET" in rule.methods:
            if "code" in rule.arguments:
                urls += [rule.rule.replace("<code>", code) for code in codes]
            else:
                assert not rule.arguments, f"{rule.rule}: teach this test its arguments"
                urls.append(rule.rule)
    return urls


def test_the_walk_covers_every_documented_endpoint(app):
    urls = api_urls(app, ["NC036"])
    for path in ("summary.json", "status.json", "components.json", "incidents.json", "incidents/unresolved.json",
                 "scheduled-maintenances.json"):
        assert f"/api/v2/{path}" in urls
    assert "/api/servers" in urls and "/api/servers/NC036" in urls


def test_no_api_answer_holds_anything_visitors_may_not_see(app, client, site):
    for url in api_urls(app, [site.mail.code, site.internal.code]):
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        leaked = [secret for secret in SECRETS if secret in text]
        assert not leaked, f"{url} serves {leaked}"


@pytest.mark.parametrize("url", ["/api/v2/components.json", "/api/v2/summary.json", "/api/v2/incidents.json"])
def test_internal_servers_are_not_components(client, site, url):
    assert '"NC023"' not in client.get(url).get_data(as_text=True)


def test_a_draft_maintenance_window_puts_nobody_under_maintenance(client, site):
    [component] = client.get("/api/v2/components.json").get_json()["components"]
    assert component["status"] == "operational"
