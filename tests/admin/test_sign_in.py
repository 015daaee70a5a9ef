"""Signing in and out: one answer for every failure, a new session, safe redirects, careful cookies."""
from __future__ import annotations

import pytest

from ninerstatus.models import Role

from .accounts import ADMIN_EMAIL, EDITOR_EMAIL, PASSWORD, add_user, find_user


def test_sign_in_page_explains_itself(client):
    response = client.get("/admin/login")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Sign in" in page and 'name="password"' in page and 'autocomplete="current-password"' in page


def test_staff_page_sends_anonymous_visitor_to_sign_in_with_next(client):
    response = client.get("/admin/posts?status=draft")
    assert response.status_code == 302
    assert response.location == "/admin/login?next=/admin/posts?status%3Ddraft"


def test_sign_in_then_staff_pages_open_and_header_names_the_account(auth, client):
    response = auth.login()
    assert response.status_code == 302 and response.location == "/admin/dashboard"
    home = client.get("/").get_data(as_text=True)
    assert "Signed in as" in home and "Ann Admin" in home and "Sign out" in home
    assert client.get("/admin/posts").status_code == 200


def test_email_is_matched_without_regard_to_case(auth, app):
    assert auth.login(ADMIN_EMAIL.upper()).status_code == 302
    with app.app_context():
        assert find_user(ADMIN_EMAIL).last_login_at is not None


@pytest.mark.parametrize("email, password", [
    ("nobody@example.net", PASSWORD),
    (ADMIN_EMAIL, "wrong password here"),
    (ADMIN_EMAIL, PASSWORD + " "),
])
def test_unknown_account_and_wrong_password_get_the_same_answer(auth, client, email, password):
    response = auth.login(email, password)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "That e-mail address and password do not match an account." in page
    assert client.get("/admin/posts").status_code == 302


def test_disabled_account_gets_the_same_answer_as_a_wrong_password(auth, app):
    with app.app_context():
        find_user(EDITOR_EMAIL).is_active = False
        from ninerstatus.extensions import db
        db.session.commit()
    response = auth.login(EDITOR_EMAIL)
    assert "That e-mail address and password do not match an account." in response.get_data(as_text=True)


@pytest.mark.parametrize("password", ["ünïcödé pässwörd ✓ 🔑", "x" * 64, "  leading and trailing spaces  "])
def test_long_and_non_ascii_passwords_work_exactly_as_typed(app, client, password):
    from ninerstatus.extensions import db
    from .conftest import AuthActions

    with app.app_context():
        user = add_user("typed@example.net", Role.EDITOR)
        user.set_password(password)
        db.session.commit()
    auth = AuthActions(client)
    assert auth.login("typed@example.net", password.strip() + "!").status_code == 200
    assert auth.login("typed@example.net", password).status_code == 302


def test_sign_in_starts_a_new_session_and_keeps_nothing_from_before(auth, client):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker before sign-in"
        session["_fresh"] = True
    auth.login()
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"].endswith(":1")


@pytest.mark.parametrize("target", ["/admin/tags", "/posts/some-post?x=1"])
def test_next_leads_to_a_page_on_this_site(auth, target):
    assert auth.login(next=target).location == target


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "http:evil.example", " //evil.example", "evil.example", "/%0a/evil.example".replace("%0a", "\n"),
    "https:/evil.example",
])
def test_next_never_leads_off_the_site(auth, target):
    from urllib.parse import quote

    response = auth.login(next=quote(target, safe=""))
    assert response.status_code == 302
    assert response.location == "/admin/dashboard"


def test_signed_in_visit_to_sign_in_page_follows_safe_next_only(auth, client):
    auth.login()
    assert client.get("/admin/login?next=/admin/tags").location == "/admin/tags"
    assert client.get("/admin/login?next=//evil.example").location == "/admin/dashboard"


def test_sign_out_is_a_post_and_ends_the_session(auth, client):
    auth.login()
    assert client.get("/admin/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302 and response.location == "/admin/login"
    assert "You are signed out" in client.get("/admin/login").get_data(as_text=True)
    assert client.get("/admin/posts").status_code == 302
    assert "Signed in as" not in client.get("/").get_data(as_text=True)


def test_session_cookie_is_httponly_and_samesite_lax_without_secure_over_http(auth, client):
    response = auth.login(remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies, "sign-in sets cookies"
    for cookie in cookies:
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Secure" not in cookie
    assert any(c.startswith("remember_token=") for c in cookies)


def test_every_cookie_is_secure_over_https(auth, client):
    response = auth.login(remember=True, base_url="https://status.test")
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} >= {"session", "remember_token"}
    assert all("; Secure" in c for c in cookies)


def test_proxy_hops_setting_trusts_forwarded_https(app, staff):
    from tests.conftest import make_test_app

    proxied = make_test_app(app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path, TRUSTED_PROXY_HOPS=1)
    client = proxied.test_client()
    response = client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert all("Secure" in c for c in response.headers.getlist("Set-Cookie"))
    untrusted = app.test_client().get("/admin/login", headers={"X-Forwarded-Proto": "https"})
    assert not any("Secure" in c for c in untrusted.headers.getlist("Set-Cookie"))


def test_staff_pages_start_at_the_dashboard(auth, client):
    auth.login_editor()
    assert client.get("/admin/").location == "/admin/dashboard"
    assert client.get("/admin/dashboard").status_code == 200
