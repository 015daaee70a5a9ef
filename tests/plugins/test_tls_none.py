"""``ninerstatus check TYPE --tls none`` means plaintext for every bundled check type, even when TLS is on offer.

Each type is run from the command line against a loopback server of its
protocol that offers an upgrade where the protocol has one (STARTTLS, STLS,
AUTH TLS); the probe must stay in plaintext, never ask for the upgrade, and
say the service is up.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from pyftpdlib.handlers import TLS_FTPHandler

from ninerstatus.plugins import get_plugins
from ninerstatus.probing import TlsMode

from ..probing.conftest import server_tls
from ..probing.servers import LoopbackServer
from .dnsservers import DnsServer, Zone, zone_text
from .ftpservers import FtpServer, certfile
from .mailservers import ImapBehaviour, PopBehaviour, SmtpServer, imap_server, pop_server
from .sipservers import SipResponder
from .webservers import WebServer


class StoppedOnClose(SmtpServer):
    """aiosmtpd offering STARTTLS, closed like the other test servers."""

    def close(self) -> None:
        self.stop()


#: type -> (start a server, offering TLS where the protocol can upgrade; the command that would upgrade).
SERVERS: dict[str, tuple[Callable[..., Any], str | None]] = {
    "smtp": (lambda start, ca, tmp: start(StoppedOnClose, tls_context=server_tls(ca, "127.0.0.1")), "STARTTLS"),
    "imap": (lambda start, ca, tmp: start(LoopbackServer, imap_server(ImapBehaviour(), [], server_tls(ca, "127.0.0.1"))),
             "STARTTLS"),
    "pop": (lambda start, ca, tmp: start(LoopbackServer, pop_server(PopBehaviour(), [], server_tls(ca, "127.0.0.1"))),
            "STLS"),
    "ftp": (lambda start, ca, tmp: start(FtpServer, TLS_FTPHandler, tmp, "127.0.0.1",
                                         certfile=certfile(ca, tmp, "127.0.0.1")), "AUTH TLS"),
    "http": (lambda start, ca, tmp: start(WebServer), None),
    "dns": (lambda start, ca, tmp: start(DnsServer, Zone(zone_text())), None),
    "dns_sync": (lambda start, ca, tmp: start(DnsServer, Zone(zone_text())), None),
    "sip": (lambda start, ca, tmp: start(SipResponder, "udp"), None),
}

#: Settings some types need, given the server's port.
OPTIONS: dict[str, Callable[[int], list[str]]] = {
    "dns": lambda port: ["name=www.example.test"],
    "dns_sync": lambda port: ["zone=example.test", f"secondaries=127.0.0.1:{port}"],
}


def test_every_bundled_type_that_has_tls_modes_is_covered(cli):
    with cli.app.app_context():
        types = get_plugins(cli.app).check_types
    assert {name for name, kind in types.items() if TlsMode.NONE in kind.tls_modes} == set(SERVERS)


@pytest.mark.parametrize("type_name", sorted(SERVERS))
def test_check_command_with_tls_none_stays_in_plaintext(cli, start, ca, tmp_path, type_name):
    make, upgrade = SERVERS[type_name]
    server = make(start, ca, tmp_path)
    options = OPTIONS.get(type_name, lambda port: [])(server.port)
    outcome = cli.invoke(args=["check", type_name, "--host", "127.0.0.1", "--port", str(server.port),
                               "--tls", "none", "--json", *(f"--option={option}" for option in options)])
    result = json.loads(outcome.output)["result"]
    assert (outcome.exit_code, result["status"]) == (0, "OK"), result["summary"]
    assert result["tls"] is None
    if upgrade is not None:  # on offer, and left alone
        assert result["summary"].endswith(f"{upgrade} offered")
        assert not any(line.startswith(f"C: {upgrade}") for line in result["transcript"])
