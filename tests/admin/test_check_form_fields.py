"""The check form holds only the fields that apply to its type, in groups; the type can change, keeping what was typed.

Server side, without JavaScript: a type that never speaks TLS gets no TLS
field at all; a type that can has its TLS fields in a group marked as
applying only with TLS (check-form.js hides it while TLS is off, see
tests/browser/test_check_form.py).
"""
from __future__ import annotations

import re

import pytest

from ninerstatus.probing import TlsMode

from .test_check_form_credentials import field_errors
from .test_check_url_paste import field_value
from .test_checks_admin import check_form, server_id, stored_checks

__all__ = ["server_id"]

TLS_FIELD_IDS = ("tls_name", "tls_verify", "ca_file", "warn_days", "crit_days")


def groups(page: str) -> list[str]:
    """The ids of the form's field groups, in order."""
    return re.findall(r'<fieldset class="group" id="group-([a-z]+)"', page)


def field_ids(page: str) -> set[str]:
    return set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', page))


@pytest.mark.parametrize("type_name, expected_groups", [
    ("http", ["type", "target", "settings", "tls", "schedule", "locations"]),
    ("ftp", ["type", "target", "settings", "tls", "schedule", "locations"]),
    ("dns", ["type", "target", "settings", "schedule", "locations"]),
])
def test_the_form_groups_the_fields_that_apply_to_the_type(auth, server_id, type_name, expected_groups):
    auth.login()
    page = auth.client.get(f"/admin/checks/new/{type_name}").get_data(as_text=True)
    assert groups(page) == expected_groups
    ids = field_ids(page)
    if "tls" in expected_groups:
        assert set(TLS_FIELD_IDS) <= ids and "tls_mode" in ids
        assert re.search(r'<fieldset class="group" id="group-tls" data-applies="tls">\s*<legend>TLS</legend>\s*'
                         r'<p class="hint tls-only">These apply only when the check uses TLS', page)
    else:
        assert not (set(TLS_FIELD_IDS) | {"tls_mode"}) & ids
        assert "Certificate" not in page


def test_only_the_types_own_settings_are_in_the_form(auth, server_id):
    auth.login()
    http = field_ids(auth.client.get("/admin/checks/new/http").get_data(as_text=True))
    ftp = field_ids(auth.client.get("/admin/checks/new/ftp").get_data(as_text=True))
    assert "settings-path" in http and "settings-username" not in http
    assert "settings-username" in ftp and "settings-path" not in ftp


def test_a_check_of_a_type_without_tls_is_saved_with_the_tls_defaults(app, auth, server_id):
    auth.login()
    data = check_form(auth, server_id, host="ns1.example.net",
                      **{"settings-name": "example.net", "settings-expect": ""})
    for name in ("tls_mode", *TLS_FIELD_IDS):  # the page has no such fields
        data.pop(name)
    response = auth.post("/admin/checks/new/dns", data)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    [check] = stored_checks(app)
    assert (check.tls_mode, check.tls_verify, check.tls_name, check.warn_days, check.crit_days) == (
        TlsMode.NONE, True, None, 21, 7)


def test_tls_fields_sent_while_tls_is_off_are_kept(app, auth, server_id):
    """Hidden, not removed: the TLS fields are sent and saved as typed, ready for when TLS is chosen."""
    auth.login()
    response = auth.post("/admin/checks/new/http", check_form(auth, server_id, port=80, tls_mode="none",
                                                              tls_name="node1.example.net", warn_days=30))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    [check] = stored_checks(app)
    assert (check.tls_mode, check.tls_name, check.warn_days) == (TlsMode.NONE, "node1.example.net", 30)


def test_changing_the_type_shows_the_new_types_form_with_what_was_typed(app, auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/http", {
        **check_form(auth, server_id, label="Customer files", host="files.example.net", interval_seconds=120,
                     tls_verify=None, **{"settings-path": "/x"}),
        "type_name": "ftp", "change_type": "1"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>New FTP check</h1>" in page
    assert 'action="/admin/checks/new/ftp"' in page
    assert (field_value(page, "label"), field_value(page, "host"), field_value(page, "interval_seconds")) == (
        "Customer files", "files.example.net", "120")
    assert not re.search(r'<input[^>]*id="tls_verify"[^>]*checked', page)  # unticked as it was sent
    assert "settings-path" not in field_ids(page) and "settings-username" in field_ids(page)
    assert field_errors(page) == []
    assert stored_checks(app) == []


def test_changing_from_a_type_without_tls_starts_the_tls_fields_at_their_defaults(auth, server_id):
    auth.login()
    data = {**check_form(auth, server_id, host="ns1.example.net"), "type_name": "http", "change_type": "1"}
    for name in ("tls_mode", *TLS_FIELD_IDS):
        data.pop(name)
    page = auth.post("/admin/checks/new/dns", data).get_data(as_text=True)
    assert "<h1>New HTTP(S) check</h1>" in page
    assert re.search(r'<input[^>]*checked[^>]*id="tls_verify"|<input[^>]*id="tls_verify"[^>]*checked', page)
    assert field_value(page, "warn_days") == "21"


def test_an_unknown_type_to_change_to_is_a_404(auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/http", {**check_form(auth, server_id), "type_name": "gopher",
                                                    "change_type": "1"})
    assert response.status_code == 404


def test_an_existing_check_keeps_its_type(app, auth, server_id):
    auth.login()
    auth.post("/admin/checks/new/http", check_form(auth, server_id, port=443))
    [check] = stored_checks(app)
    page = auth.client.get(f"/admin/checks/{check.id}").get_data(as_text=True)
    assert "group-type" not in page and 'name="change_type"' not in page
