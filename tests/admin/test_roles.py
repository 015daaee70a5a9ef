"""The role matrix: anonymous visitors, editors and admins over every staff route.

Editors may use exactly the endpoints in EDITOR_ENDPOINTS; every other staff
endpoint, including any added later, is expected to be for admins only.
"""
from __future__ import annotations

import pytest

from .accounts import EDITOR_EMAIL
from .staffdata import build_url, make_staff_data, snapshot

EDITOR_ENDPOINTS = {
    "admin.index", "admin.sign_in", "admin.sign_out", "admin.password",
    "admin.posts", "admin.new_post", "admin.edit_post", "admin.preview", "admin.autosave", "admin.delete_post",
    "admin.add_update", "admin.delete_update", "admin.upload_image",
    "admin.tags", "admin.edit_tag", "admin.merge_tag", "admin.delete_tag",
    # The dashboard publishes what the probes drafted: posts, so editors' work too.
    "admin.dashboard", "admin.publish_draft", "admin.publish_suggested_update", "admin.dismiss_suggested_update",
}


def staff_routes(app):
    """(endpoint, method, rule) for every method of every staff rule."""
    return [(rule.endpoint, method, rule) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


@pytest.fixture
def staff_data(app, staff):
    with app.app_context():
        return make_staff_data()


def _request(auth, app, method, rule, staff_data):
    url = build_url(app, rule, staff_data)
    if method == "GET":
        return url, auth.client.get(url)
    return url, auth.client.open(url, method=method, data={"csrf_token": auth.token()})


def test_admins_hold_the_only_keys_to_servers_and_revisions(app):
    admin_only = {endpoint for endpoint, _, _ in staff_routes(app)} - EDITOR_ENDPOINTS
    assert {"admin.servers", "admin.new_server", "admin.edit_server", "admin.move_server", "admin.toggle_visibility",
            "admin.delete_server", "admin.revisions", "admin.revision", "admin.restore_revision"} <= admin_only


def test_anonymous_visitors_are_sent_to_sign_in_from_every_staff_route(app, auth, staff_data):
    with app.app_context():
        before = snapshot()
    for endpoint, method, rule in staff_routes(app):
        if endpoint == "admin.sign_in":
            continue
        url, response = _request(auth, app, method, rule, staff_data)
        assert response.status_code == 302, f"{method} {url}"
        assert response.location.startswith("/admin/login"), f"{method} {url}"
    with app.app_context():
        assert snapshot() == before


def test_editors_are_refused_every_admin_route_and_change_nothing(app, auth, staff_data):
    auth.login(EDITOR_EMAIL)
    with app.app_context():
        before = snapshot()
    for endpoint, method, rule in staff_routes(app):
        if endpoint in EDITOR_ENDPOINTS:
            continue
        url, response = _request(auth, app, method, rule, staff_data)
        assert response.status_code == 403, f"{method} {url} answered {response.status_code}"
    with app.app_context():
        assert snapshot() == before


@pytest.mark.parametrize("who", ["editor", "admin"])
def test_staff_may_use_their_routes(app, auth, staff_data, who):
    """Editors reach every editor route; admins reach everything (no 401/403 anywhere)."""
    auth.login("editor@example.net" if who == "editor" else "admin@example.net")
    for endpoint, method, rule in staff_routes(app):
        if (who == "editor" and endpoint not in EDITOR_ENDPOINTS) or endpoint == "admin.sign_out":
            continue
        url, response = _request(auth, app, method, rule, staff_data)
        assert response.status_code not in (401, 403), f"{who}: {method} {url} answered {response.status_code}"
        assert response.status_code < 500, f"{who}: {method} {url} answered {response.status_code}"


def test_forbidden_page_is_in_the_sites_look_and_says_why(app, auth, staff_data):
    auth.login(EDITOR_EMAIL)
    response = auth.client.get("/admin/servers")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "This page is for admins" in page and "Signed in as" in page


def test_editors_do_not_see_admin_links(auth, staff_data):
    auth.login(EDITOR_EMAIL)
    page = auth.client.get(f"/admin/posts/{staff_data.ids['post_id']}").get_data(as_text=True)
    assert "/admin/servers" not in page and "/revisions" not in page
