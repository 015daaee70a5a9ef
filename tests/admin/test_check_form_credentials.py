"""The check form refuses a test login without TLS when it is saved, not later on the dashboard.

IMAP, POP3 and FTP checks can log in with a test account; without TLS the
password would travel in the clear on every probe, so the probe refuses such
a check (UNKNOWN, config_error). The form applies the same rule at save: one
error next to the TLS field saying what to change, everything typed kept, and
the password never written back into the page.
"""
from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import select

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.probing import TlsMode

from ..factories import make_server
from ..plugins.mailservers import PASSWORD, USER, ImapBehaviour, imap_server
from ..probing.conftest import serve

__all__ = ["serve"]

LOGIN_TYPES = ["imap", "pop", "ftp"]
REFUSAL = ("A login test without TLS would send the password in the clear: choose “STARTTLS (required)” "
           "or “TLS from the first byte”, or leave the test account empty")
#: FTP's anonymous account may log in in plaintext, so its message offers it.
REFUSALS = {"imap": REFUSAL + ".", "pop": REFUSAL + ".", "ftp": REFUSAL + " or use the anonymous account."}
RETYPE = "You typed a password; it is not shown again, so type it again before saving."


@pytest.fixture
def server_id(app):
    with app.app_context():
        return make_server("NC060").id


def check_form(server_id: int, **fields) -> dict:
    """A filled-in check form with the test account; ``fields`` override (None leaves a field out)."""
    data = {"server_id": server_id, "label": "Mailboxes", "host": "127.0.0.1", "port": "", "tls_mode": "none",
            "family": "any", "tls_name": "", "tls_verify": "y", "ca_file": "", "warn_days": 21, "crit_days": 7,
            "interval_seconds": 60, "timeout_seconds": 3, "failures_before_down": 2, "successes_before_up": 1,
            "visibility": "public", "enabled": "y", "settings-username": USER, "settings-password": PASSWORD}
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def field_errors(page: str) -> list[tuple[str, str]]:
    """Every field error on the page: (the field's id, the message)."""
    return re.findall(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', page)


def stored_checks(app) -> list[Check]:
    with app.app_context():
        return list(db.session.scalars(select(Check)))


def store(app, server_id: int, **fields) -> int:
    """Write a check row straight into the database, as an older release or a script could have."""
    with app.app_context():
        check = Check(server_id=server_id, **fields)
        db.session.add(check)
        db.session.commit()
        return check.id


@pytest.mark.parametrize("type_name", LOGIN_TYPES)
def test_a_login_test_without_tls_is_refused_at_save_with_one_error_by_the_tls_field(app, auth, server_id,
                                                                                     type_name):
    auth.login()
    response = auth.post(f"/admin/checks/new/{type_name}", check_form(server_id, label="Kept label"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page) == [("tls_mode", REFUSALS[type_name])]
    # Everything typed is kept: the label, the TLS choice, the user name...
    assert 'value="Kept label"' in page
    assert re.search(r'<option selected value="none">', page)
    assert re.search(rf'<input[^>]*id="settings-username"[^>]*value="{USER}"', page)
    # ...but not the password: the page only says one was typed.
    assert PASSWORD not in page
    assert RETYPE in page
    assert stored_checks(app) == []


@pytest.mark.parametrize("type_name", LOGIN_TYPES)
@pytest.mark.parametrize("tls_mode", [TlsMode.STARTTLS, TlsMode.IMPLICIT])
def test_the_same_login_test_with_tls_is_saved(app, auth, server_id, type_name, tls_mode):
    auth.login()
    response = auth.post(f"/admin/checks/new/{type_name}", check_form(server_id, tls_mode=tls_mode.value))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    [check] = stored_checks(app)
    assert check.tls_mode is tls_mode
    with app.app_context():  # the password is stored encrypted: the probe gets it back in clear
        assert (check.probe_settings()["username"], check.probe_settings()["password"]) == (USER, PASSWORD)


@pytest.mark.parametrize("type_name", LOGIN_TYPES)
def test_the_same_check_without_a_login_test_is_saved_without_tls(app, auth, server_id, type_name):
    auth.login()
    response = auth.post(f"/admin/checks/new/{type_name}",
                         check_form(server_id, **{"settings-username": "", "settings-password": ""}))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    [check] = stored_checks(app)
    assert check.tls_mode is TlsMode.NONE and not check.settings["username"]


def test_ftp_may_log_in_anonymously_without_tls(app, auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/ftp", check_form(server_id, **{
        "settings-username": "anonymous", "settings-password": "probe@example.net"}))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert stored_checks(app)[0].settings["username"] == "anonymous"


def test_the_tls_mode_a_port_uses_by_default_counts_and_is_named(app, auth, server_id):
    auth.login()
    # Port 143 upgrades with STARTTLS by default: the login is fine.
    assert auth.post("/admin/checks/new/imap", check_form(server_id, port=143, tls_mode="")).status_code == 302
    # Another port has no TLS by default, which the message says.
    response = auth.post("/admin/checks/new/imap", check_form(server_id, port=1430, tls_mode=""))
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True)) == [
        ("tls_mode", REFUSALS["imap"] + " (On port 1430 this check type uses “No TLS”.)")]
    assert [check.tls_mode for check in stored_checks(app)] == [TlsMode.STARTTLS]


@pytest.mark.parametrize("type_name", LOGIN_TYPES)
def test_a_password_without_a_user_name_is_refused_next_to_the_password(app, auth, server_id, type_name):
    auth.login()
    response = auth.post(f"/admin/checks/new/{type_name}",
                         check_form(server_id, tls_mode="starttls", **{"settings-username": ""}))
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True)) == [
        ("settings-password", "a password needs the test account&#39;s user name too")]
    assert stored_checks(app) == []


def test_a_stored_password_counts_and_clearing_the_user_name_removes_the_login(app, auth, server_id, serve):
    log = []
    imapd = serve(imap_server(ImapBehaviour(), log))
    auth.login()
    auth.post("/admin/checks/new/imap", check_form(server_id, port=imapd.port, tls_mode="starttls"))
    [check] = stored_checks(app)
    # Switching to no TLS while the stored password is kept (its field left empty) is refused...
    response = auth.post(f"/admin/checks/{check.id}", check_form(server_id, port=imapd.port,
                                                                  **{"settings-password": ""}))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page) == [("tls_mode", REFUSALS["imap"])]
    assert "Leave empty to keep the stored password." in page and PASSWORD not in page
    # ...and so is typing a new one, which the page asks for again without showing it.
    response = auth.post(f"/admin/checks/{check.id}", check_form(server_id, port=imapd.port,
                                                                  **{"settings-password": "n3w secret"}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "n3w secret" not in page
    assert ("You typed a password; it is not shown again, so type it again before saving "
            "(left empty, the stored one is kept).") in page
    assert stored_checks(app)[0].tls_mode is TlsMode.STARTTLS
    # Clearing the user name removes the login test: saved, and the probe never logs in.
    response = auth.post(f"/admin/checks/{check.id}", check_form(server_id, port=imapd.port, **{
        "settings-username": "", "settings-password": ""}))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    assert stored_checks(app)[0].tls_mode is TlsMode.NONE
    page = auth.post(f"/admin/checks/{check.id}/probe").get_data(as_text=True)
    assert "IMAP ok, STARTTLS offered" in page
    assert [entry.line.split()[1] for entry in log] == ["CAPABILITY", "LOGOUT"]


@pytest.mark.parametrize("type_name", LOGIN_TYPES)
def test_a_stored_login_without_tls_is_flagged_on_its_page_and_refused_by_probe_now(app, auth, server_id,
                                                                                    type_name):
    listener = socket.create_server(("127.0.0.1", 0))  # never accepts: a probe that connected would hang
    check_id = store(app, server_id, type_name=type_name, host="127.0.0.1", port=listener.getsockname()[1],
                     tls_mode=TlsMode.NONE, settings={"username": USER, "password": PASSWORD})
    auth.login()
    page = auth.client.get(f"/admin/checks/{check_id}").get_data(as_text=True)
    assert field_errors(page) == [("tls_mode", REFUSALS[type_name])]
    assert PASSWORD not in page
    response = auth.post(f"/admin/checks/{check_id}/probe")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "UNKNOWN" in page and "config_error" in page
    assert "a login test without TLS would send the password in the clear" in page
    assert auth.client.get("/admin/checks").status_code == 200
    with listener:
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
