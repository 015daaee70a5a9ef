"""Request counts and durations by route, method and status class, with a bounded set of labels."""
from __future__ import annotations

import pytest
from flask import request, request_started

from ..public_routes import make_routed_site
from .scraping import TOKEN, scrape

REQUESTS = "ninerstatus_http_requests_total"
DURATIONS = "ninerstatus_http_request_duration_seconds_count"


@pytest.fixture
def app_config() -> dict:
    return {"METRICS_TOKEN": TOKEN}


def test_requests_are_counted_by_endpoint_method_and_status_class(app):
    client = app.test_client()
    with app.app_context():
        make_routed_site()
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert client.get("/posts/mail-delays").status_code == 200
    assert client.get("/posts/no-such-post").status_code == 404
    assert client.head("/api/v2/status.json").status_code == 200
    assert client.post("/admin/login", data={}).status_code == 400  # no CSRF token
    assert client.open("/", method="BREW").status_code == 405

    found = scrape(client)

    assert found.value(REQUESTS, endpoint="public.home", method="GET", status="2xx") == 3
    assert found.value(DURATIONS, endpoint="public.home", method="GET") == 3
    assert found.value(REQUESTS, endpoint="public.post", method="GET", status="2xx") == 1
    assert found.value(REQUESTS, endpoint="public.post", method="GET", status="4xx") == 1
    assert found.value(REQUESTS, endpoint="api.status", method="HEAD", status="2xx") == 1
    assert found.value(REQUESTS, endpoint="admin.sign_in", method="POST", status="4xx") == 1
    assert found.value(REQUESTS, endpoint="unmatched", method="other", status="4xx") == 1
    # The failed scrapes and this one are requests too; this one is counted once it is answered.
    assert found.value(REQUESTS, endpoint="metrics.scrape", method="GET", status="2xx") is None
    assert scrape(client).value(REQUESTS, endpoint="metrics.scrape", method="GET", status="2xx") == 1


def test_addresses_no_route_matches_add_up_in_one_series(app):
    client = app.test_client()
    for n in range(25):
        assert client.get(f"/wp-login-{n}.php?x={n}").status_code == 404
    found = scrape(client)
    counted = found.all(REQUESTS, status="4xx")
    assert [(s.labels["endpoint"], s.value) for s in counted] == [("unmatched", 25)]
    assert {s.labels["endpoint"] for s in found.all(DURATIONS)} == {"unmatched"}


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN, "PAGE_CACHE_SECONDS": 60}])
def test_answers_from_the_page_cache_count_under_their_route(app):
    client = app.test_client()
    with app.app_context():
        make_routed_site()
    reached_flask = []
    with request_started.connected_to(lambda sender, **extra: reached_flask.append(request.path), app):
        assert client.get("/servers/NC036").status_code == client.get("/servers/NC036").status_code == 200
    assert reached_flask == ["/servers/NC036"]  # the second answer came from the page cache
    found = scrape(client)
    assert found.value(REQUESTS, endpoint="public.server", method="GET", status="2xx") == 2


def test_durations_fall_in_the_histogram_buckets_they_took(app):
    client = app.test_client()
    client.get("/no-such-page")
    found = scrape(client)
    buckets = found.all("ninerstatus_http_request_duration_seconds_bucket", endpoint="unmatched")
    counts = [sample.value for sample in sorted(buckets, key=lambda s: float(s.labels["le"]))]
    assert counts == sorted(counts) and counts[-1] == 1  # cumulative, and the one request is in +Inf
    assert found.value("ninerstatus_http_request_duration_seconds_sum", endpoint="unmatched") > 0
