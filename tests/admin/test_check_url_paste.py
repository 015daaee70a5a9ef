"""A URL in the check form's host field fills the form in (server side: the same without JavaScript).

Staff paste addresses from a browser. The form reads the URL when it is sent,
shows the form again filled in with a note saying what it took (never an
error for a URL it can read), and saves only on the next send. Everything is
validated as a host typed alone is; a scheme the type does not read, or
credentials a type cannot use, are refused on the host field with the reason.
"""
from __future__ import annotations

import html
import re

import pytest

from ninerstatus.check_urls import UrlError, looks_like_url, read_url
from ninerstatus.probing import TlsMode

from .test_check_form_credentials import field_errors
from .test_checks_admin import check_form, server_id, stored_checks

__all__ = ["server_id"]


def field_value(page: str, field_id: str) -> str:
    """The value an input of the page shows."""
    match = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page)
    assert match, f"no input {field_id}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def selected(page: str, field_id: str) -> str:
    select_html = re.search(rf'<select id="{field_id}".*?</select>', page, flags=re.S).group(0)
    return re.search(r'<option selected value="([^"]*)"', select_html).group(1)


def note(page: str) -> str:
    return html.unescape(re.search(r'<p class="notice url-note" id="url-note"[^>]*>(.*?)</p>', page).group(1))


def paste(auth, server_id: int, type_name: str, url: str, **fields):
    """Send the new-check form of ``type_name`` with ``url`` in the host field."""
    auth.login()
    return auth.post(f"/admin/checks/new/{type_name}",
                     check_form(auth, server_id, host=url, port="", tls_mode="", **fields))


@pytest.mark.parametrize("url, host, port, tls, path", [
    ("https://panel.example.net:8443/login?x=1", "panel.example.net", "8443", "implicit", "/login?x=1"),
    ("http://Intranet.Example.NET", "intranet.example.net", "80", "none", "/"),
    ("HTTPS://panel.example.net", "panel.example.net", "443", "implicit", "/"),
    ("https://[2001:db8::1]:8443/health", "2001:db8::1", "8443", "implicit", "/health"),
    ("https://café.example/menu", "xn--caf-dma.example", "443", "implicit", "/menu"),
    ("  http://panel.example.net:80/a%20b?q=%C3%A9  ", "panel.example.net", "80", "none", "/a%20b?q=%C3%A9"),
])
def test_an_http_url_fills_in_host_port_tls_and_path_and_the_form_is_shown_again(app, auth, server_id, url, host,
                                                                                 port, tls, path):
    response = paste(auth, server_id, "http", url, label="Panel")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page) == []
    assert (field_value(page, "host"), field_value(page, "port"), selected(page, "tls_mode"),
            field_value(page, "settings-path")) == (host, port, tls, path)
    assert note(page).startswith(f"Taken from the URL: host {host}, port {port}, TLS “")
    assert f"path {path}. Check them, then save." in note(page)
    assert field_value(page, "label") == "Panel"  # what was typed is kept
    assert stored_checks(app) == []  # nothing saved until staff send it again
    # Sent again as shown, it is saved.
    response = auth.post("/admin/checks/new/http", check_form(auth, server_id, host=host, port=port, tls_mode=tls,
                                                              **{"settings-path": path}))
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    [check] = stored_checks(app)
    assert (check.host, check.port, check.tls_mode) == (host, int(port), TlsMode(tls))


def test_a_fragment_is_left_out_and_the_note_says_so(auth, server_id):
    page = paste(auth, server_id, "http", "https://panel.example.net/status#top").get_data(as_text=True)
    assert field_value(page, "settings-path") == "/status"
    assert "Left out (HTTP(S) checks do not use them): #top." in note(page)


@pytest.mark.parametrize("url, message", [
    ("ftp://files.example.net/", "HTTP(S) checks do not read ftp:// URLs: paste a URL starting with http:// or "
                                 "https://, or give only the host."),
    ("gopher://panel.example.net", "HTTP(S) checks do not read gopher:// URLs"),
    ("https://admin:hunter2@panel.example.net/", "HTTP(S) checks do not log in: remove the user name and password "
                                                 "(the “user:password@” part) from the URL."),
    ("https://admin@panel.example.net/", "HTTP(S) checks do not log in"),
    ("https://panel.example.net:99999/", "The URL's port is not a number from 1 to 65535."),
    ("https://panel.example.net:0/", "The URL's port is not a number from 1 to 65535."),
    ("https://panel.example.net:https/", "The URL's port is not a number from 1 to 65535."),
    ("https:///login", "The URL names no host."),
    ("https://[panel]/", "The URL cannot be read: "),
    ("https://-oProxyCommand=x/", "starts with a dash"),
    ("https://pan el.example.net/", "contains a space or a control character"),
])
def test_a_url_that_cannot_describe_the_check_is_refused_on_the_host_field(app, auth, server_id, url, message):
    response = paste(auth, server_id, "http", url, label="Kept label")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    [(field_id, error)] = field_errors(page)
    assert field_id == "host" and message in html.unescape(error)
    assert "hunter2" not in page.replace(f'value="{url}"', "")  # only in the field, as typed
    assert field_value(page, "label") == "Kept label"
    assert stored_checks(app) == []


def test_a_type_that_reads_no_url_says_to_give_the_host(auth, server_id):
    response = paste(auth, server_id, "banner", "https://panel.example.net/")
    assert field_errors(response.get_data(as_text=True)) == [
        ("host", "Banner checks take a host name, not a URL: give only the host, e.g. example.com.")]


@pytest.mark.parametrize("type_name, url, port, tls", [
    ("ftp", "ftp://files.example.net", "21", "starttls"),  # what FTP checks use on 21: AUTH TLS, required
    ("ftp", "ftps://files.example.net", "990", "implicit"),
    ("smtp", "smtp://mail.example.net", "25", "none"),
    ("smtp", "submission://mail.example.net", "587", "starttls"),
    ("smtp", "smtps://mail.example.net:2465", "2465", "implicit"),
    ("imap", "imaps://mail.example.net", "993", "implicit"),
    ("imap", "imap://mail.example.net", "143", "starttls"),
    ("pop", "pop3s://mail.example.net", "995", "implicit"),
    ("pop", "pop://mail.example.net", "110", "starttls"),
])
def test_other_types_read_their_own_schemes(auth, server_id, type_name, url, port, tls):
    response = paste(auth, server_id, type_name, url, **{"settings-username": "", "settings-password": ""})
    assert response.status_code == 200, field_errors(response.get_data(as_text=True))
    page = response.get_data(as_text=True)
    assert (field_value(page, "host"), field_value(page, "port"), selected(page, "tls_mode")) == (
        url.split("://")[1].split(":")[0], port, tls)


def test_a_login_in_an_ftp_url_goes_to_the_test_account_and_the_password_is_asked_for(app, auth, server_id):
    response = paste(auth, server_id, "ftp", "ftps://probe%40example.net:s3cr%3At@files.example.net/pub/",
                     **{"settings-username": "", "settings-password": ""})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_value(page, "settings-username") == "probe@example.net"
    assert field_value(page, "settings-password") == ""  # a password is never written into a page
    assert "s3cr" not in page
    assert note(page) == ("Taken from the URL: host files.example.net, port 990, TLS “TLS from the first byte”, "
                          "test account probe@example.net. Check them, then save. Its password is never put back "
                          "into a page: type it in “Password”. Left out (FTP checks do not use them): /pub/.")
    assert stored_checks(app) == []


def test_a_url_pasted_into_an_existing_check_changes_nothing_until_saved(app, auth, server_id):
    auth.login()
    auth.post("/admin/checks/new/http", check_form(auth, server_id, host="old.example.net", port=443))
    [check] = stored_checks(app)
    response = auth.post(f"/admin/checks/{check.id}", check_form(auth, server_id, host="http://new.example.net/x"))
    assert response.status_code == 200
    assert field_value(response.get_data(as_text=True), "host") == "new.example.net"
    assert stored_checks(app)[0].host == "old.example.net"


def test_reading_a_url_needs_a_scheme_and_slashes():
    assert looks_like_url("https://x.example") and looks_like_url(" ftp://x.example")
    assert not looks_like_url("x.example") and not looks_like_url("sip:alice@x.example")
    assert not looks_like_url("x.example:443/path") and not looks_like_url(None)


def test_a_reading_names_the_tls_mode_of_the_schemes_port_not_of_the_urls_port(app):
    with app.app_context():
        from ninerstatus.plugins import get_plugins
        http = get_plugins().check_types["http"]
    reading = read_url(http, "https://panel.example.net:8080/")
    assert (reading.port, reading.tls) == (8080, TlsMode.IMPLICIT)
    with pytest.raises(UrlError, match="do not read mailto:// URLs"):
        read_url(http, "mailto://someone")


def test_a_refused_url_is_shown_with_the_other_fields_errors(auth, server_id):
    response = paste(auth, server_id, "http", "gopher://panel.example.net", interval_seconds=1, timeout_seconds=0.5)
    assert response.status_code == 400
    assert [field_id for field_id, _ in field_errors(response.get_data(as_text=True))] == ["host", "interval_seconds"]
