"""Staff accounts run by admins: add, change role, disable, reset a password, sign out everywhere."""
from __future__ import annotations

from sqlalchemy import func, select

from ninerstatus.extensions import db
from ninerstatus.models import Role, User

from .accounts import ADMIN_EMAIL, EDITOR_EMAIL, PASSWORD, find_user
from .conftest import AuthActions

NEW_PASSWORD = "another long passphrase"


def _account_id(app, email: str) -> int:
    with app.app_context():
        return find_user(email).id


def _form(**fields):
    return {"email": "new@example.net", "name": "New Person", "role": "editor", "active": "y",
            "password": "", **fields}


def test_admin_adds_an_account_that_can_then_sign_in(app, auth, client):
    auth.login()
    response = auth.post("/admin/users/new", _form(password=NEW_PASSWORD))
    assert response.status_code == 302
    assert "New Person" in client.get("/admin/users").get_data(as_text=True)
    other = AuthActions(app.test_client())
    assert other.login("NEW@example.net", NEW_PASSWORD).status_code == 302
    with app.app_context():
        assert find_user("new@example.net").role is Role.EDITOR


def test_a_new_account_needs_a_password_and_an_unused_address(app, auth):
    auth.login()
    page = auth.post("/admin/users/new", _form()).get_data(as_text=True)
    assert "Give the new account a password." in page
    taken = auth.post("/admin/users/new", _form(email=EDITOR_EMAIL.upper(), password=NEW_PASSWORD))
    assert taken.status_code == 400 and "Another account has this address." in taken.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_promoting_an_editor_takes_effect_at_their_next_request(app, auth):
    editor = AuthActions(app.test_client())
    editor.login(EDITOR_EMAIL)
    assert editor.client.get("/admin/servers").status_code == 403
    auth.login()
    auth.post(f"/admin/users/{_account_id(app, EDITOR_EMAIL)}", _form(email=EDITOR_EMAIL, role="admin"))
    assert editor.client.get("/admin/servers").status_code == 200


def test_disabling_an_account_ends_its_sessions_and_blocks_sign_in(app, auth):
    editor = AuthActions(app.test_client())
    editor.login(EDITOR_EMAIL, remember=True)
    cookie = editor.client.get_cookie("remember_token", domain="status.test").value
    auth.login()
    user_id = _account_id(app, EDITOR_EMAIL)
    auth.post(f"/admin/users/{user_id}", {**_form(email=EDITOR_EMAIL), "active": ""})
    assert editor.client.get("/admin/posts").status_code == 302
    assert editor.login(EDITOR_EMAIL).status_code == 200
    # Enabled again, the account signs in afresh; the old remember-me cookie stays void.
    auth.post(f"/admin/users/{user_id}", _form(email=EDITOR_EMAIL))
    restarted = app.test_client()
    restarted.set_cookie("remember_token", cookie, domain="status.test")
    assert restarted.get("/admin/posts").status_code == 302
    assert editor.login(EDITOR_EMAIL).status_code == 302


def test_setting_a_password_signs_the_account_out_everywhere(app, auth):
    editor = AuthActions(app.test_client())
    editor.login(EDITOR_EMAIL)
    auth.login()
    auth.post(f"/admin/users/{_account_id(app, EDITOR_EMAIL)}", _form(email=EDITOR_EMAIL, password=NEW_PASSWORD))
    assert editor.client.get("/admin/posts").status_code == 302
    assert editor.login(EDITOR_EMAIL, PASSWORD).status_code == 200
    assert editor.login(EDITOR_EMAIL, NEW_PASSWORD).status_code == 302


def test_an_admin_signs_someone_out_everywhere(app, auth):
    editor = AuthActions(app.test_client())
    editor.login(EDITOR_EMAIL)
    auth.login()
    assert auth.post(f"/admin/users/{_account_id(app, EDITOR_EMAIL)}/sign-out").status_code == 302
    assert editor.client.get("/admin/posts").status_code == 302
    assert auth.client.get("/admin/posts").status_code == 200


def test_an_admin_cannot_lock_themselves_out(app, auth):
    auth.login()
    me = _account_id(app, ADMIN_EMAIL)
    for fields, message in [({"role": "editor"}, "your own admin role"),
                            ({"active": ""}, "disable your own account"),
                            ({"password": NEW_PASSWORD}, "on the Password page")]:
        response = auth.post(f"/admin/users/{me}", {**_form(email=ADMIN_EMAIL, role="admin"), **fields})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        user = find_user(ADMIN_EMAIL)
        assert user.role is Role.ADMIN and user.is_active and user.check_password(PASSWORD)


def test_editors_cannot_manage_accounts(app, auth):
    auth.login(EDITOR_EMAIL)
    assert auth.client.get("/admin/users").status_code == 403
    assert auth.post("/admin/users/new", _form(password=NEW_PASSWORD, role="admin")).status_code == 403
    with app.app_context():
        assert find_user("new@example.net") is None
