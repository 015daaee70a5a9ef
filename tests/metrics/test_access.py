"""Who may read /metrics: nobody unless configured; then only with the token and/or from an allowed address."""
from __future__ import annotations

import pytest

from ninerstatus.config import ConfigError
from ninerstatus.metrics.access import MetricsAccess
from ninerstatus.metrics.views import REQUESTS_KEY

from .scraping import BEARER, TOKEN

OUTSIDE = {"REMOTE_ADDR": "198.51.100.9"}
INSIDE = {"REMOTE_ADDR": "192.0.2.7"}


@pytest.mark.parametrize("app_config", [{}])
def test_metrics_do_not_exist_when_neither_guard_is_set(app):
    client = app.test_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers=BEARER).status_code == 404
    assert REQUESTS_KEY not in app.extensions  # and requests are not even counted


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_a_missing_or_wrong_token_gets_401_and_the_right_one_the_metrics(app):
    client = app.test_client()
    for headers in ({}, {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": f"Bearer {TOKEN[:-1]}"},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"}):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "ninerstatus_" not in refused.get_data(as_text=True)
    answered = client.get("/metrics", headers=BEARER, environ_base=OUTSIDE)
    assert answered.status_code == 200
    assert answered.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "ninerstatus_database_up 1.0" in answered.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"METRICS_ALLOW": ["192.0.2.0/28", "2001:db8::/32"]}])
def test_an_address_outside_the_allowlist_gets_404(app):
    client = app.test_client()
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    assert client.get("/metrics", environ_base=OUTSIDE, headers=BEARER).status_code == 404
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.0.2.16"}).status_code == 404
    assert client.get("/metrics", environ_base=INSIDE).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "2001:db8::5"}).status_code == 200


@pytest.mark.parametrize("app_config", [{"METRICS_ALLOW": "192.0.2.7", "METRICS_TOKEN": TOKEN}])
def test_with_both_guards_a_scraper_needs_both(app):
    client = app.test_client()
    assert client.get("/metrics", environ_base=OUTSIDE, headers=BEARER).status_code == 404
    assert client.get("/metrics", environ_base=INSIDE).status_code == 401
    assert client.get("/metrics", environ_base=INSIDE, headers=BEARER).status_code == 200


@pytest.mark.parametrize("app_config", [{"METRICS_ALLOW": ["192.0.2.7"], "TRUSTED_PROXY_HOPS": 1}])
def test_behind_a_proxy_the_allowlist_names_the_client_the_proxy_forwards(app):
    client = app.test_client()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    assert client.get("/metrics", environ_base=proxy,
                      headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics", environ_base=proxy,
                      headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 404
    # A client that writes the header itself is still only the one address the proxy appends.
    assert client.get("/metrics", environ_base=proxy,
                      headers={"X-Forwarded-For": "192.0.2.7, 198.51.100.9"}).status_code == 404


@pytest.mark.parametrize("app_config", [{"METRICS_ALLOW": ["192.0.2.7"]}])
def test_without_a_trusted_proxy_a_forwarded_address_counts_for_nothing(app):
    client = app.test_client()
    assert client.get("/metrics", environ_base=OUTSIDE,
                      headers={"X-Forwarded-For": "192.0.2.7"}).status_code == 404


@pytest.mark.parametrize("app_config", [{"METRICS_ALLOW": ["127.0.0.1"], "PAGE_CACHE_SECONDS": 5}])
def test_the_answer_sets_no_cookie_and_is_kept_by_no_cache(app):
    client = app.test_client()
    answered = client.get("/metrics")  # the test client's own address, 127.0.0.1
    assert answered.status_code == 200
    assert "Set-Cookie" not in answered.headers
    assert answered.headers["Cache-Control"] == "no-store"
    # The page cache keys on the address, not the client: had it kept that answer, this would get it.
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404


def test_allowed_addresses_are_matched_as_the_networks_they_belong_to():
    access = MetricsAccess.of({"METRICS_ALLOW": "10.0.0.0/8, 2001:db8::/32 192.0.2.7"})
    assert access.allows_address("10.200.3.4")
    assert access.allows_address("::ffff:10.1.2.3")  # an IPv4 client on a dual-stack socket
    assert access.allows_address("2001:db8::1%eth0")
    assert access.allows_address("192.0.2.7")
    assert not access.allows_address("192.0.2.8")
    assert not access.allows_address("11.0.0.1")
    assert not access.allows_address(None)
    assert not access.allows_address("not an address")


@pytest.mark.parametrize(("settings", "said"), [
    ({"METRICS_ALLOW": ["10.0.0.300"]}, "METRICS_ALLOW: '10.0.0.300' is not an address"),
    ({"METRICS_ALLOW": 10}, "METRICS_ALLOW must be a list"),
    ({"METRICS_TOKEN": "short"}, "at least 16 characters"),
    ({"METRICS_TOKEN": "a token with spaces in it"}, "without spaces"),
    ({"METRICS_TOKEN": 12345678901234567890}, "METRICS_TOKEN must be text"),
])
def test_settings_that_cannot_work_stop_the_site_with_one_line(settings, said):
    with pytest.raises(ConfigError, match=said):
        MetricsAccess.of(settings)


def test_settings_come_from_the_environment_like_every_other(tmp_path, monkeypatch):
    from ninerstatus.instance import site_settings

    settings = site_settings(tmp_path, {"NINERSTATUS_METRICS_TOKEN": TOKEN,
                                        "NINERSTATUS_METRICS_ALLOW": '["192.0.2.0/24"]'})
    access = MetricsAccess.of(settings)
    assert access.token_matches(f"Bearer {TOKEN}") and not access.token_matches("Bearer nope")
    assert access.allows_address("192.0.2.200")
