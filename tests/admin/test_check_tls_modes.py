"""TLS modes: each check type declares the ones it can use; the admin form and the command line keep to them."""
from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import select

from ninerstatus import CheckType, ProbeResult, Status, TlsMode
from ninerstatus.checks.models import Check
from ninerstatus.checktypes import CheckTypeError
from ninerstatus.extensions import db

from ..factories import make_server

HTTP_FORM = {"label": "Website", "host": "www.example.net", "port": "", "tls_mode": "", "family": "any",
             "tls_name": "", "tls_verify": "y", "ca_file": "", "warn_days": 21, "crit_days": 7,
             "interval_seconds": 60, "timeout_seconds": 10, "failures_before_down": 2, "successes_before_up": 1,
             "visibility": "public", "enabled": "y"}


def _probe(target, settings, ctx):
    return ProbeResult(Status.OK, "ok")


@pytest.fixture
def server_id(app):
    with app.app_context():
        return make_server("NC050").id


def offered_tls_modes(page: str) -> list[str]:
    """The values the TLS drop-down offers, the type's port default ("") first; none when there is no choice."""
    select_html = re.search(r'<select id="tls_mode".*?</select>', page, flags=re.S)
    return re.findall(r'<option[^>]*value="([^"]*)"', select_html.group(0)) if select_html else []


def test_a_type_that_declares_nothing_gets_plain_and_implicit_tls_and_what_its_ports_use():
    plain = CheckType(name="plain", label="Plain", probe=_probe, default_port=7)
    mail = CheckType(name="mail", label="Mail", probe=_probe, default_port=25, tls_by_port={587: TlsMode.STARTTLS})
    assert plain.tls_modes == (TlsMode.NONE, TlsMode.IMPLICIT)
    assert mail.tls_modes == (TlsMode.NONE, TlsMode.STARTTLS, TlsMode.IMPLICIT)


def test_declared_tls_modes_must_cover_the_ports_and_not_be_empty():
    with pytest.raises(CheckTypeError, match="tls_by_port uses starttls"):
        CheckType(name="odd", label="Odd", probe=_probe, default_port=1, tls_by_port={2: TlsMode.STARTTLS},
                  tls_modes=(TlsMode.NONE,))
    with pytest.raises(CheckTypeError, match="tls_modes is empty"):
        CheckType(name="none", label="None", probe=_probe, default_port=1, tls_modes=())


def test_a_tls_only_type_defaults_to_tls_on_any_port():
    dot = CheckType(name="dot", label="DNS over TLS", probe=_probe, default_port=853, tls_modes=(TlsMode.IMPLICIT,))
    assert dot.default_tls(853) is dot.default_tls(5353) is TlsMode.IMPLICIT
    with pytest.raises(CheckTypeError, match="dot cannot use TLS mode none"):
        dot.tls_for(853, TlsMode.NONE)


@pytest.mark.parametrize("type_name, offered", [
    ("http", ["", "none", "implicit"]),
    ("sip", ["", "none", "implicit"]),
    ("dns", []),  # no TLS at all: nothing to choose
    ("smtp", ["", "none", "starttls", "implicit"]),
    ("ftp", ["", "none", "starttls", "implicit"]),
])
def test_the_form_offers_only_the_tls_modes_of_the_type(auth, server_id, type_name, offered):
    auth.login()
    page = auth.client.get(f"/admin/checks/new/{type_name}").get_data(as_text=True)
    assert offered_tls_modes(page) == offered


def test_starttls_for_http_is_refused_next_to_the_field_keeping_what_was_typed(app, auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/http", {**HTTP_FORM, "server_id": server_id, "tls_mode": "starttls"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ('<p class="field-error" id="tls_mode-error">HTTP(S) checks cannot use “STARTTLS (required)”: '
            'choose “No TLS” or “TLS from the first byte”.</p>') in page
    assert 'value="Website"' in page and 'value="www.example.net"' in page
    with app.app_context():
        assert db.session.scalars(select(Check)).all() == []
    # The same form with a mode HTTP has is saved.
    assert auth.post("/admin/checks/new/http", {**HTTP_FORM, "server_id": server_id,
                                                "tls_mode": "implicit"}).status_code == 302


def test_a_made_up_tls_mode_is_refused_too(app, auth, server_id):
    auth.login()
    response = auth.post("/admin/checks/new/http", {**HTTP_FORM, "server_id": server_id, "tls_mode": "quic"})
    assert response.status_code == 400
    assert "HTTP(S) checks cannot use this TLS mode" in response.get_data(as_text=True)


def test_editing_a_stored_check_with_a_mode_its_type_lacks_says_so_at_once(app, auth, server_id):
    with app.app_context():
        check = Check(server_id=server_id, type_name="http", host="www.example.net", port=443,
                      tls_mode=TlsMode.STARTTLS)
        db.session.add(check)
        db.session.commit()
        check_id = check.id
    auth.login()
    page = auth.client.get(f"/admin/checks/{check_id}").get_data(as_text=True)
    assert "HTTP(S) checks cannot use “STARTTLS (required)”" in page


def test_the_command_line_refuses_a_tls_mode_the_type_lacks(runner):
    result = runner.invoke(args=["check", "http", "--host", "127.0.0.1", "--tls", "starttls"])
    assert result.exit_code == 2
    assert "http cannot use TLS mode starttls (it supports none, implicit)" in result.output
    nagios = runner.invoke(args=["check", "dns", "--host", "127.0.0.1", "-o", "name=example.net",
                                 "--tls", "implicit", "--nagios"])
    assert (nagios.exit_code, nagios.output.strip()) == (
        3, "DNS UNKNOWN - dns cannot use TLS mode implicit (it supports none)")


# --- settings that must agree with the TLS mode: SIP's transport ------------------------------------

SIP_FORM = {**HTTP_FORM, "label": "Phones", "settings-uri": "", "settings-alive_codes": "401,403,404,405"}
TLS_TRANSPORT = "The tls transport speaks TLS from the first byte: choose “TLS from the first byte”, or set the " \
                "transport to udp, tcp or auto."


def plaintext_transport(transport: str) -> str:
    return f"The {transport} transport is plaintext: choose “No TLS”, or set the transport to tls or auto."


def field_errors(page: str) -> list[tuple[str, str]]:
    """Every field error on the page: (the field's id, the message)."""
    return re.findall(r'<p class="field-error" id="([^"]+)-error">(.*?)</p>', page)


@pytest.mark.parametrize("transport, tls_mode, port, message", [
    ("tls", "none", "", TLS_TRANSPORT),
    ("udp", "implicit", "", plaintext_transport("udp")),
    ("tcp", "implicit", "", plaintext_transport("tcp")),
    # The port's usual mode counts when none is chosen, and the message names it.
    ("tls", "", "5060", TLS_TRANSPORT + " (On port 5060 this check type uses “No TLS”.)"),
    ("udp", "", "5061", plaintext_transport("udp") + " (On port 5061 this check type uses “TLS from the first byte”.)"),
])
def test_a_sip_transport_that_contradicts_the_tls_mode_is_refused_by_the_tls_field(app, auth, server_id, transport,
                                                                                   tls_mode, port, message):
    auth.login()
    response = auth.post("/admin/checks/new/sip", {**SIP_FORM, "server_id": server_id, "tls_mode": tls_mode,
                                                   "port": port, "settings-transport": transport})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page) == [("tls_mode", message)]
    assert 'value="Phones"' in page and re.search(rf'<option selected value="{transport}">', page)
    with app.app_context():
        assert db.session.scalars(select(Check)).all() == []


@pytest.mark.parametrize("transport, tls_mode, port, stored", [
    ("tls", "implicit", "", TlsMode.IMPLICIT),
    ("tls", "", "5061", TlsMode.IMPLICIT),
    ("udp", "none", "", TlsMode.NONE),
    ("tcp", "", "", TlsMode.NONE),
    ("auto", "none", "", TlsMode.NONE),
    ("auto", "implicit", "", TlsMode.IMPLICIT),
])
def test_a_sip_transport_that_agrees_with_the_tls_mode_is_saved(app, auth, server_id, transport, tls_mode, port,
                                                                stored):
    auth.login()
    response = auth.post("/admin/checks/new/sip", {**SIP_FORM, "server_id": server_id, "tls_mode": tls_mode,
                                                   "port": port, "settings-transport": transport})
    assert response.status_code == 302, field_errors(response.get_data(as_text=True))
    with app.app_context():
        [check] = db.session.scalars(select(Check)).all()
        assert (check.settings["transport"], check.tls_mode) == (transport, stored)


@pytest.mark.parametrize("transport, tls_mode, message, reason", [
    ("tls", TlsMode.NONE, TLS_TRANSPORT, "the tls transport speaks TLS from the first byte: use TLS mode implicit"),
    ("udp", TlsMode.IMPLICIT, plaintext_transport("udp"), "the udp transport is plaintext: use TLS mode none"),
])
def test_a_stored_sip_check_that_contradicts_itself_is_flagged_and_probes_to_unknown_without_a_packet(
        app, auth, server_id, transport, tls_mode, message, reason):
    # A UDP and a TCP socket on one port, neither answering: whatever the probe sent would wait there.
    with socket.create_server(("127.0.0.1", 0)) as stream, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dgram:
        port = stream.getsockname()[1]
        dgram.bind(("127.0.0.1", port))
        with app.app_context():
            check = Check(server_id=server_id, type_name="sip", host="127.0.0.1", port=port, tls_mode=tls_mode,
                          settings={"transport": transport, "uri": "", "alive_codes": "401"})
            db.session.add(check)
            db.session.commit()
            check_id = check.id
        auth.login()
        page = auth.client.get(f"/admin/checks/{check_id}").get_data(as_text=True)
        assert field_errors(page) == [("tls_mode", message)]
        response = auth.post(f"/admin/checks/{check_id}/probe")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "UNKNOWN" in page and "config_error" in page and reason in page
        assert auth.client.get("/admin/checks").status_code == 200
        stream.setblocking(False)
        dgram.setblocking(False)
        with pytest.raises(BlockingIOError):
            stream.accept()
        with pytest.raises(BlockingIOError):
            dgram.recv(65535)
