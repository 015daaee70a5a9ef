"""Sessions end everywhere: sign-out and password change revoke every session and remember-me cookie."""
from __future__ import annotations

from ninerstatus.extensions import db

from .accounts import ADMIN_EMAIL, PASSWORD, find_user
from .conftest import AuthActions

NEW_PASSWORD = "a whole new passphrase ✓"


def _signed_in(client) -> bool:
    return client.get("/admin/posts").status_code == 200


def _remember_cookie(client):
    return client.get_cookie("remember_token", domain="status.test")


def test_sign_out_in_one_browser_ends_the_session_in_another(app, auth, client):
    laptop, phone = auth, AuthActions(app.test_client())
    laptop.login()
    phone.login()
    assert _signed_in(client) and _signed_in(phone.client)
    laptop.logout()
    assert not _signed_in(phone.client)


def test_sign_out_voids_remember_me_cookies_on_other_devices(app, auth):
    other = app.test_client()
    AuthActions(other).login(remember=True)
    cookie = _remember_cookie(other)
    assert cookie is not None
    auth.login()
    auth.logout()
    # A browser restarted later: no session cookie, only the old remember-me cookie.
    restarted = app.test_client()
    restarted.set_cookie("remember_token", cookie.value, domain="status.test")
    assert not _signed_in(restarted)


def test_remember_me_cookie_alone_signs_back_in_until_revoked(app, auth):
    auth.login(remember=True)
    cookie = _remember_cookie(auth.client)
    restarted = app.test_client()
    restarted.set_cookie("remember_token", cookie.value, domain="status.test")
    assert _signed_in(restarted)


def test_sign_out_deletes_the_remember_me_cookie_here(auth):
    auth.login(remember=True)
    response = auth.logout()
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))


def test_password_change_signs_out_other_devices_but_not_this_one(app, auth, client):
    other = AuthActions(app.test_client())
    other.login(remember=True)
    auth.login()
    response = auth.post("/admin/password", {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 302
    assert "Your password is changed" in client.get("/admin/password").get_data(as_text=True)
    assert _signed_in(client)
    assert not _signed_in(other.client)
    assert other.login(password=PASSWORD).status_code == 200
    assert other.login(password=NEW_PASSWORD).status_code == 302


def test_password_change_needs_the_current_password(app, auth):
    auth.login()
    response = auth.post("/admin/password", {"current": "not it", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD})
    assert response.status_code == 200
    assert "That is not your current password." in response.get_data(as_text=True)
    with app.app_context():
        assert find_user(ADMIN_EMAIL).check_password(PASSWORD)


def test_password_change_refuses_short_or_mismatched_passwords(app, auth):
    auth.login()
    short = auth.post("/admin/password", {"current": PASSWORD, "new": "short", "repeat": "short"})
    assert "at least 10" in short.get_data(as_text=True)
    mismatch = auth.post("/admin/password", {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD + "x"})
    assert "The two new passwords are not the same." in mismatch.get_data(as_text=True)
    with app.app_context():
        assert find_user(ADMIN_EMAIL).check_password(PASSWORD)


def test_disabling_an_account_ends_its_sessions_at_the_next_request(app, auth, client):
    auth.login()
    with app.app_context():
        find_user(ADMIN_EMAIL).is_active = False
        db.session.commit()
    assert not _signed_in(client)


def test_a_forged_session_identity_is_not_accepted(app, auth, client):
    auth.login()
    with client.session_transaction() as session:
        session["_user_id"] = "1:999"
    assert not _signed_in(client)
    with client.session_transaction() as session:
        session["_user_id"] = "1"
    assert not _signed_in(client)
