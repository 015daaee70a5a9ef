"""Staff manage checks: add, validate, edit, probe now, delete; editors cannot."""
from __future__ import annotations

import re
import socket
import threading

import pytest
from sqlalchemy import func, select

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.probing import ProbeResult, Status, TlsMode
from ninerstatus.runner.damping import apply_result

from ..factories import make_server
from .conftest import csrf_token_in


@pytest.fixture
def server_id(app):
    with app.app_context():
        return make_server("NC036").id


@pytest.fixture
def banner_server():
    """A TCP server on loopback that greets each connection with one line."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(b"220 test banner ready\r\n")

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def check_form(auth, server_id: int, **fields) -> dict:
    data = {"server_id": server_id, "label": "Greeting", "host": "127.0.0.1", "port": "", "tls_mode": "",
            "family": "any", "tls_name": "", "tls_verify": "y", "ca_file": "", "warn_days": 21, "crit_days": 7,
            "interval_seconds": 60, "timeout_seconds": 2, "failures_before_down": 2, "successes_before_up": 1,
            "visibility": "public", "enabled": "y",
            "settings-expect": "banner", "settings-secret": "s3cret"}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def stored_checks(app) -> list[Check]:
    with app.app_context():
        return list(db.session.scalars(select(Check)))


def test_admin_adds_a_check_with_type_settings_and_defaults(app, auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/banner", check_form(auth, server_id))
    assert response.status_code == 302, response.get_data(as_text=True)
    [check] = stored_checks(app)
    assert (check.type_name, check.host, check.port, check.tls_mode) == ("banner", "127.0.0.1", 2525, TlsMode.NONE)
    with app.app_context():  # the secret is stored encrypted (see test_check_secrets.py)
        assert check.probe_settings() == {"expect": "banner", "secret": "s3cret"}
    listing = auth.client.get("/admin/checks").get_data(as_text=True)
    assert "Greeting" in listing and "no result yet" in listing


@pytest.mark.parametrize("host", ["http://mail.example.net", "mail example", "-oProxyCommand=x", "a\r\nb",
                                  "mail.example.net/path", ""])
def test_bad_hosts_are_refused_and_the_form_keeps_what_was_typed(app, auth, server_id, host):
    auth.login()
    response = auth.post("/admin/checks/new/banner", check_form(auth, server_id, host=host, label="Kept label"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="Kept label"' in page and "field-error" in page
    assert stored_checks(app) == []


def test_thresholds_and_timeout_are_checked_against_each_other(app, auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/banner", check_form(auth, server_id, crit_days=30, timeout_seconds=90,
                                                                 interval_seconds=60))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Must not be more than the warning threshold." in page and "Must be shorter than the interval." in page


def test_new_check_form_shows_the_retry_counts_with_their_defaults(auth, server_id):
    auth.login()
    page = auth.client.get("/admin/checks/new/banner").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="failures_before_down"[^>]*value="2"', page)
    assert re.search(r'<input[^>]*id="successes_before_up"[^>]*value="1"', page)
    assert "consecutive failed probes before the check counts as down" in page.lower()


def test_retry_counts_are_saved_and_the_runner_keeps_to_them(app, auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/banner", check_form(auth, server_id, failures_before_down=3,
                                                                 successes_before_up=2))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        check = db.session.scalars(select(Check)).one()
        assert (check.failures_before_down, check.successes_before_up) == (3, 2)
        changes = [apply_result(check, ProbeResult(Status.CRITICAL, "down")) for _ in range(3)]
        assert [change is not None for change in changes] == [False, False, True]
        changes = [apply_result(check, ProbeResult(Status.OK, "up")) for _ in range(2)]
        assert [change is not None for change in changes] == [False, True]
    page = auth.client.get(f"/admin/checks/{check.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="failures_before_down"[^>]*value="3"', page)


@pytest.mark.parametrize("value", ["0", "11"])
def test_retry_counts_stay_between_one_and_ten(app, auth, server_id, value):
    auth.login()
    response = auth.post("/admin/checks/new/banner", check_form(auth, server_id, failures_before_down=value,
                                                                 successes_before_up=value))
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and page.count("Number must be between 1 and 10.") == 2
    assert stored_checks(app) == []


@pytest.mark.parametrize("name, typed, message", [
    ("port", "abc", "Enter a port number from 1 to 65535, such as 587."),
    ("interval_seconds", "1 minute", "Enter a whole number in digits, without units."),
    ("timeout_seconds", "2,5", "Enter a number in digits, such as 10 or 2.5."),
    ("failures_before_down", "many", "Enter a whole number in digits, without units."),
    ("successes_before_up", "once", "Enter a whole number in digits, without units."),
])
def test_a_number_that_is_not_one_gets_one_error_and_is_shown_as_typed(app, auth, server_id, name, typed, message):
    auth.login()
    response = auth.post("/admin/checks/new/banner", check_form(auth, server_id, **{name: typed}))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.findall(rf'<p class="field-error" id="{name}-error">(.*?)</p>', page) == [message]
    # A text box, so the browser shows it as typed (a number input would empty it).
    assert re.search(rf'<input[^>]*id="{name}"[^>]*type="text"[^>]*value="{typed}"', page)
    assert stored_checks(app) == []


def test_editing_keeps_a_stored_password_setting_left_empty(app, auth, server_id):
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id))
    check_id = stored_checks(app)[0].id
    page = auth.client.get(f"/admin/checks/{check_id}").get_data(as_text=True)
    assert "s3cret" not in page
    response = auth.post(f"/admin/checks/{check_id}", check_form(auth, server_id, **{"settings-secret": "",
                                                                                   "port": 2600}))
    assert response.status_code == 302
    [check] = stored_checks(app)
    with app.app_context():
        assert check.probe_settings()["secret"] == "s3cret" and check.port == 2600


def test_probe_now_shows_the_full_result_and_keeps_it(app, auth, server_id, banner_server, client):
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id, port=banner_server))
    check_id = stored_checks(app)[0].id
    response = auth.post(f"/admin/checks/{check_id}/probe")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Greeting on NC036: OK" in page and "S: 220 test banner ready" in page
    [check] = stored_checks(app)
    assert check.result.details["banner"] == "220 test banner ready"
    auth.logout()
    public = client.get("/").get_data(as_text=True)
    assert "banner 220 test banner ready" in public and "OPERATIONAL" in public


def test_probe_now_against_a_closed_port_reports_the_refusal(app, auth, server_id):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id, port=port))
    check_id = stored_checks(app)[0].id
    page = auth.post(f"/admin/checks/{check_id}/probe").get_data(as_text=True)
    assert "CRITICAL" in page and "connect_refused" in page


def test_delete_asks_first_then_removes_only_the_check(app, auth, server_id):
    auth.login()
    auth.post("/admin/checks/new/banner", check_form(auth, server_id))
    check_id = stored_checks(app)[0].id
    assert "Delete the check" in auth.client.get(f"/admin/checks/{check_id}/delete").get_data(as_text=True)
    assert auth.post(f"/admin/checks/{check_id}/delete").status_code == 302
    assert stored_checks(app) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Check)) == 0


def test_editors_cannot_see_or_change_checks(app, auth, server_id):
    auth.login_editor()
    assert auth.client.get("/admin/checks").status_code == 403
    response = auth.post("/admin/checks/new/banner", check_form(auth, server_id))
    assert response.status_code == 403
    assert stored_checks(app) == []


def test_an_unknown_check_type_is_a_clear_404(app, auth, server_id):
    auth.login()
    response = auth.client.get("/admin/checks/new/nosuchtype")
    assert response.status_code == 404 and "No loaded plugin provides" in response.get_data(as_text=True)
