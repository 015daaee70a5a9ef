"""Secret check settings (passwords) are encrypted at rest under a key derived from the site's SECRET_KEY.

The checks table never holds them in clear, the probe still gets them, rows
stored in clear by an older release still read (and are encrypted on their
next save), and a secret no key opens makes its check one that cannot run:
reported with the reason, asked for again in its form, never a 500.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from ninerstatus.checks.models import Check
from ninerstatus.checks.secrets import (PURPOSE, UnreadableSecret, cipher_for, derive_key, open_settings,
                                        seal_settings)
from ninerstatus.checks.validity import check_problem
from ninerstatus.extensions import db
from ninerstatus.plugins import get_plugins

from ..plugins.mailservers import PASSWORD, USER, ImapBehaviour, imap_server
from ..probing.conftest import ca, ca_file, serve, server_tls
from .test_check_form_credentials import check_form, field_errors, store

__all__ = ["ca", "ca_file", "serve"]

SECRET_KEY = "test-secret"  # what make_test_app gives every test app
UNREADABLE = ("its secret setting password cannot be decrypted with the site's secret key (was SECRET_KEY "
              "changed?): type it again in the check's form")


TOKEN_PLUGIN = '''
from wtforms import StringField

from ninerstatus import CheckType, hookimpl


def probe(target, settings, ctx):
    raise AssertionError("never probed here")


@hookimpl
def ninerstatus_check_types():
    return [CheckType(name="api", label="API", probe=probe, default_port=8443, secret_settings=("token",),
                      settings={"token": StringField("API token", default="")})]
'''


@pytest.fixture
def app_config(tmp_path_factory):
    """The test suite's local plugins, and one whose secret is a plain text field declared secret."""
    folder = tmp_path_factory.mktemp("plugins")
    (folder / "banner.py").symlink_to(Path(__file__).parent.parent / "local_plugins" / "banner.py")
    (folder / "api.py").write_text(TOKEN_PLUGIN)
    return {"PLUGINS_FOLDER": str(folder)}


@pytest.fixture
def server_id(app):
    from ..factories import make_server

    with app.app_context():
        return make_server("NC060").id


def stored_text(app, check_id: int) -> str:
    """The settings column of a check as the database holds it, read with SQL."""
    with app.app_context():
        value = db.session.execute(text(f"SELECT settings FROM checks WHERE id = {check_id}")).scalar_one()
        return value if isinstance(value, str) else repr(value)  # PostgreSQL's driver decodes JSON


def only_check(app) -> Check:
    with app.app_context():
        return db.session.scalars(db.select(Check)).one()


def test_a_password_saved_in_the_form_is_stored_encrypted_and_the_probe_logs_in_with_it(app, auth, server_id,
                                                                                         serve, ca, ca_file):
    log = []
    imapd = serve(imap_server(ImapBehaviour(), log, tls=server_tls(ca, "127.0.0.1")))
    auth.login()
    response = auth.post("/admin/checks/new/imap", check_form(server_id, port=imapd.port, tls_mode="starttls",
                                                              ca_file=ca_file))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    check = only_check(app)
    row = stored_text(app, check.id)
    assert PASSWORD not in row and '"fernet"' in row.replace("'", '"') and USER in row
    # The probe gets the password in clear: it logs in, over TLS.
    page = auth.post(f"/admin/checks/{check.id}/probe").get_data(as_text=True)
    assert "OK" in page and PASSWORD not in page
    [login] = [entry for entry in log if " LOGIN " in entry.line]
    assert PASSWORD in login.line and login.over_tls
    # Neither the form nor the checks list shows it back.
    for path in (f"/admin/checks/{check.id}", "/admin/checks", "/admin/dashboard"):
        page = auth.client.get(path).get_data(as_text=True)
        assert PASSWORD not in page and "gAAAA" not in page


def test_a_password_stored_in_clear_by_an_older_release_still_reads_and_is_encrypted_on_save(app, auth, server_id):
    check_id = store(app, server_id, type_name="imap", host="127.0.0.1", port=993, tls_mode="implicit",
                     settings={"username": USER, "password": PASSWORD})
    assert PASSWORD in stored_text(app, check_id)
    with app.app_context():
        check = db.session.get(Check, check_id)
        assert check.probe_settings()["password"] == PASSWORD
        assert check_problem(check, get_plugins().check_types) is None
    auth.login()
    page = auth.client.get(f"/admin/checks/{check_id}").get_data(as_text=True)
    assert "Leave empty to keep the stored password." in page and PASSWORD not in page
    response = auth.post(f"/admin/checks/{check_id}", check_form(server_id, port=993, tls_mode="implicit",
                                                                  **{"settings-password": ""}))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert PASSWORD not in stored_text(app, check_id)
    with app.app_context():
        assert db.session.get(Check, check_id).probe_settings()["password"] == PASSWORD


@pytest.mark.parametrize("stored", [
    {"fernet": cipher_for("another site's secret").encrypt(PASSWORD.encode()).decode()},  # the key changed
    {"fernet": "gAAAAAB-not-a-token"},  # edited by hand
    {"fernet": 5},
])
def test_a_password_no_key_opens_makes_the_check_one_that_cannot_run(app, auth, server_id, stored):
    check_id = store(app, server_id, type_name="imap", host="127.0.0.1", port=993, tls_mode="implicit",
                     settings={"username": USER, "password": stored})
    with app.app_context():
        assert check_problem(db.session.get(Check, check_id), get_plugins().check_types) == UNREADABLE
    auth.login()
    dashboard = auth.client.get("/admin/dashboard")
    assert dashboard.status_code == 200
    assert "Checks that cannot run" in dashboard.get_data(as_text=True)
    assert UNREADABLE in html.unescape(dashboard.get_data(as_text=True))
    # Probe now says why and probes nothing.
    response = auth.post(f"/admin/checks/{check_id}/probe")
    assert response.status_code == 200
    assert "config_error" in response.get_data(as_text=True)
    # The form asks for the password again.
    response = auth.client.get(f"/admin/checks/{check_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page) == [("settings-password", "The stored “Test account password” cannot be decrypted "
                                                        "with the site&#39;s secret key (was it changed?): type it "
                                                        "again.")]
    assert "Left empty, the check is saved without it." in page
    # Typed again, it is stored under the site's key and the check can run.
    response = auth.post(f"/admin/checks/{check_id}", check_form(server_id, port=993, tls_mode="implicit"))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    with app.app_context():
        check = db.session.get(Check, check_id)
        assert check_problem(check, get_plugins().check_types) is None
        assert check.probe_settings()["password"] == PASSWORD


def test_an_unreadable_password_left_empty_is_saved_without_it(app, auth, server_id):
    check_id = store(app, server_id, type_name="imap", host="127.0.0.1", port=993, tls_mode="implicit",
                     settings={"username": USER, "password": {"fernet": "garbage"}})
    auth.login()
    response = auth.post(f"/admin/checks/{check_id}", check_form(server_id, port=993, tls_mode="implicit",
                                                                  **{"settings-password": ""}))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Check, check_id).probe_settings()["password"] == ""


def test_an_old_key_in_secret_key_fallbacks_still_reads(app, server_id):
    sealed = seal_settings({"password": PASSWORD}, {"password"}, cipher_for("the old secret"))
    app.config["SECRET_KEY_FALLBACKS"] = ["the old secret"]
    check_id = store(app, server_id, type_name="imap", host="127.0.0.1", port=993, tls_mode="implicit",
                     settings={"username": USER, **sealed})
    with app.app_context():
        assert db.session.get(Check, check_id).probe_settings()["password"] == PASSWORD
    app.config["SECRET_KEY_FALLBACKS"] = []
    with app.app_context(), pytest.raises(UnreadableSecret):
        db.session.get(Check, check_id).probe_settings()


def test_reencrypt_secrets_moves_every_secret_to_the_current_key(app, runner, server_id):
    old = cipher_for("the old secret")
    moved = store(app, server_id, type_name="imap", host="127.0.0.1", port=993, tls_mode="implicit",
                  settings={"username": USER, **seal_settings({"password": PASSWORD}, {"password"}, old)})
    clear = store(app, server_id, type_name="pop", host="127.0.0.1", port=995, tls_mode="implicit",
                  settings={"username": USER, "password": "in clear"})
    app.config["SECRET_KEY_FALLBACKS"] = ["the old secret"]
    result = runner.invoke(args=["reencrypt-secrets"])
    assert result.exit_code == 0, result.output
    assert "Encrypted the secret settings of 2 checks under the current SECRET_KEY." in result.output
    assert "in clear" not in stored_text(app, clear)
    app.config["SECRET_KEY_FALLBACKS"] = []  # the old key can go now
    with app.app_context():
        assert db.session.get(Check, moved).probe_settings()["password"] == PASSWORD
        assert db.session.get(Check, clear).probe_settings()["password"] == "in clear"


def test_reencrypt_secrets_names_the_checks_it_cannot_read_and_fails(app, runner, server_id):
    check_id = store(app, server_id, type_name="imap", label="Mailboxes", host="127.0.0.1", port=993,
                     tls_mode="implicit", settings={"username": USER, "password": {"fernet": "garbage"}})
    result = runner.invoke(args=["reencrypt-secrets"])
    assert result.exit_code == 1
    assert f"cannot decrypt check {check_id} (Mailboxes of NC060): password" in result.output


def test_secrets_never_reach_the_api(app, auth, server_id):
    store(app, server_id, type_name="imap", host="127.0.0.1", port=993, tls_mode="implicit",
          settings={"username": USER, "password": PASSWORD})
    auth.login()
    for path in ("/api/servers", "/api/v2/summary.json", "/api/v2/components.json"):
        response = auth.client.get(path)
        assert PASSWORD not in response.get_data(as_text=True), path


def test_a_text_setting_declared_secret_is_encrypted_and_never_shown_back(app, auth, server_id):
    auth.login()
    data = {**check_form(server_id, tls_mode="implicit"), "settings-token": "tok-3456"}
    response = auth.post("/admin/checks/new/api", data)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    check = only_check(app)
    assert "tok-3456" not in stored_text(app, check.id)
    page = auth.client.get(f"/admin/checks/{check.id}").get_data(as_text=True)
    assert "tok-3456" not in page and "Leave empty to keep the stored password." in page
    assert re.search(r'<input[^>]*id="settings-token"[^>]*value=""', page)
    with app.app_context():
        assert db.session.get(Check, check.id).probe_settings()["token"] == "tok-3456"


# ------------------------------------------------------------------ the cipher itself

def test_a_sealed_secret_opens_with_its_key_only():
    cipher = cipher_for(SECRET_KEY)
    sealed = seal_settings({"user": "u", "password": PASSWORD, "empty": ""}, {"password", "empty"}, cipher)
    assert sealed["user"] == "u" and sealed["empty"] == "" and set(sealed["password"]) == {"fernet"}
    assert PASSWORD not in repr(sealed)
    assert open_settings(sealed, cipher)["password"] == PASSWORD
    assert seal_settings(sealed, {"password"}, cipher) == sealed  # sealing twice changes nothing
    with pytest.raises(UnreadableSecret, match="password"):
        open_settings(sealed, cipher_for("another secret"))


def test_the_key_is_hkdf_of_the_secret_key_with_a_label_of_its_own():
    """Documented in docs/check-settings.md: HKDF-SHA256, no salt, info "ninerstatus check settings v1"."""
    import base64

    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"ninerstatus check settings v1").derive(SECRET_KEY.encode())
    assert derive_key(SECRET_KEY).decrypt(Fernet(base64.urlsafe_b64encode(raw)).encrypt(b"x")) == b"x"
    assert PURPOSE == b"ninerstatus check settings v1"
    # Another label (another use of the same secret key) gives a key that opens nothing of this one's.
    other = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sessions").derive(SECRET_KEY.encode())
    with pytest.raises(UnreadableSecret):
        open_settings({"password": {"fernet": Fernet(base64.urlsafe_b64encode(other)).encrypt(b"x").decode()}},
                      cipher_for(SECRET_KEY))
