"""Every state-changing route refuses a request without a valid CSRF token, and changes nothing.

Also: GET never changes anything, and an expired token on a form gives the
form back with everything typed still in it.
"""
from __future__ import annotations

import re

import pytest

from ninerstatus.extensions import db
from ninerstatus.models import Post

from .staffdata import FORM_DATA, build_url, has_unknown_arguments, make_staff_data, snapshot, state_changing_rules


@pytest.fixture
def staff_data(app, staff):
    with app.app_context():
        return make_staff_data()


def test_the_walk_finds_the_staff_forms(app):
    endpoints = {rule.endpoint for rule in state_changing_rules(app)}
    assert {"admin.sign_in", "admin.sign_out", "admin.new_post", "admin.edit_post", "admin.autosave",
            "admin.add_update", "admin.restore_revision", "admin.delete_server", "admin.merge_tag"} <= endpoints


@pytest.mark.parametrize("token", [None, "", "not-a-token", "forged.token.value"])
def test_every_state_changing_route_refuses_a_missing_or_bad_token_and_changes_nothing(
        app, auth, client, staff_data, token):
    auth.login()
    rules = state_changing_rules(app)
    with app.app_context():
        before = snapshot()
    for rule in rules:
        url = build_url(app, rule, staff_data)
        data = dict(FORM_DATA) if token is None else {**FORM_DATA, "csrf_token": token}
        # A made-up argument may make a form view, shown again, answer "not found" instead.
        refusals = {400, 404} if has_unknown_arguments(rule, staff_data) else {400}
        json_refusals = {400}
        if rule.endpoint.startswith("agent_api."):
            # Agents have no session to ride on: every request of theirs is signed (docs/agents.md),
            # so a staff session without a signature is refused as unauthorised.
            refusals = json_refusals = {401}
        for method in sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"}):
            response = client.open(url, method=method, data=data)
            assert response.status_code in refusals, f"{method} {url} answered {response.status_code}"
            json = client.open(url, method=method, data=data, headers={"Accept": "application/json"})
            assert json.status_code in json_refusals, f"{method} {url} (JSON) answered {json.status_code}"
    with app.app_context():
        assert snapshot() == before
    assert client.get("/admin/posts").status_code == 200, "still signed in: nothing was done to the session"


def test_a_token_from_another_session_is_refused(app, auth, client, staff_data):
    from .conftest import AuthActions

    other = AuthActions(app.test_client())
    other.login()
    stolen = other.token()
    auth.login()
    with app.app_context():
        before = snapshot()
    response = client.post(f"/admin/posts/{staff_data.ids['post_id']}", data={**FORM_DATA, "csrf_token": stolen})
    assert response.status_code == 400
    with app.app_context():
        assert snapshot() == before


def test_sign_in_without_a_token_is_refused_and_counts_nothing(app, client, staff):
    with app.app_context():
        before = snapshot()
    response = client.post("/admin/login", data={"email": "admin@example.net",
                                                 "password": "correct horse battery staple"})
    assert response.status_code == 400
    assert client.get("/admin/posts").status_code == 302
    with app.app_context():
        assert snapshot() == before


def test_no_get_request_changes_anything(app, auth, client, staff_data):
    auth.login()
    with app.app_context():
        before = snapshot()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "static":
            response = client.get(build_url(app, rule, staff_data))
            assert response.status_code < 500, rule.rule
    with app.app_context():
        assert snapshot() == before


def test_expired_token_on_the_editor_gives_the_form_back_with_everything_typed(app, auth, client, staff_data):
    auth.login()
    typed = {"title": "Mail is slow <again>", "body": "<p>We are <strong>looking</strong> at it.</p>",
             "kind": "maintenance", "tags": "mail, brand new tag", "action": "publish",
             "servers": str(staff_data.ids["server_id"]), "csrf_token": "expired"}
    response = client.post("/admin/posts/new", data=typed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form had expired" in page and "nothing was saved" in page
    assert 'value="Mail is slow &lt;again&gt;"' in page
    assert "&lt;p&gt;We are &lt;strong&gt;looking&lt;/strong&gt; at it.&lt;/p&gt;" in page
    assert 'value="mail, brand new tag"' in page
    assert re.search(r'value="maintenance" checked|checked[^>]*value="maintenance"', page)
    assert re.search(rf'checked[^>]*value="{staff_data.ids["server_id"]}"|value="{staff_data.ids["server_id"]}"[^>]*checked', page)
    # The form comes back with a fresh, valid token: sending it again works.
    from .accounts import csrf_token_in

    again = client.post("/admin/posts/new", data={**typed, "csrf_token": csrf_token_in(page)})
    assert again.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Post).where(Post.title == "Mail is slow <again>")) is not None


def test_expired_token_on_sign_in_shows_the_form_again(client, staff):
    response = client.post("/admin/login", data={"email": "admin@example.net", "password": "x", "csrf_token": "old"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This form had expired" in page and 'value="admin@example.net"' in page
    assert 'value="x"' not in page


def test_expired_token_elsewhere_explains_what_to_do(app, auth, client, staff_data):
    auth.login()
    response = client.post(f"/admin/servers/{staff_data.ids['server_id']}/delete", data={"csrf_token": "old"})
    assert response.status_code == 400
    assert "Go back, reload the page and try again." in response.get_data(as_text=True)


def test_expired_token_after_the_session_ended_does_not_show_the_editor(app, client, staff_data):
    response = client.post("/admin/posts/new", data={"title": "x", "csrf_token": "old"})
    assert response.status_code == 400
    assert 'name="title"' not in response.get_data(as_text=True)
