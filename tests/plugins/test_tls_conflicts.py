"""``ninerstatus check`` refuses settings that contradict the TLS mode, before a byte is sent.

The rule is the check type's own (``CheckType.tls_conflict``), the one the
admin form applies at save: a test login without TLS (IMAP, POP3, FTP), or a
SIP transport that says otherwise than the TLS mode. Each case runs against
a real server of its protocol on loopback, which must hear nothing; the same
command with a TLS mode that agrees gets through to it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pyftpdlib.handlers import TLS_FTPHandler

from ..probing.conftest import server_tls
from ..probing.servers import LoopbackServer
from . import ftpservers, mailservers
from .ftpservers import FtpServer, certfile
from .mailservers import ImapBehaviour, PopBehaviour, imap_server, pop_server
from .sipservers import SipResponder

REFUSED = "a login test without TLS would send the password in the clear: use TLS mode starttls or implicit, or " \
          "leave the test account empty"


def start_mail(make_script: Callable[..., Any], behaviour: Any) -> Callable[..., tuple[Any, Callable[[], list]]]:
    """Start a scripted mail server offering STARTTLS; return it and what it has received so far."""
    def started(start, ca, tmp_path):
        log: list[mailservers.Received] = []
        return start(LoopbackServer, make_script(behaviour, log, server_tls(ca, "127.0.0.1"))), lambda: log
    return started


def start_ftp(start, ca, tmp_path):
    server = start(FtpServer, TLS_FTPHandler, tmp_path, "127.0.0.1", certfile=certfile(ca, tmp_path, "127.0.0.1"))
    return server, lambda: server.commands


#: type -> (start a server offering an upgrade, the test account, what the refusal ends with).
LOGINS = {
    "imap": (start_mail(imap_server, ImapBehaviour()), (mailservers.USER, mailservers.PASSWORD), ""),
    "pop": (start_mail(pop_server, PopBehaviour()), (mailservers.USER, mailservers.PASSWORD), ""),
    "ftp": (start_ftp, (ftpservers.USER, ftpservers.PASSWORD), " or use the anonymous account"),
}


def check_line(cli, type_name: str, port: int, *args: str) -> tuple[int, str]:
    """Run ``ninerstatus check TYPE ... --nagios`` against 127.0.0.1:``port``: the exit status and the line."""
    outcome = cli.invoke(args=["check", type_name, "--host", "127.0.0.1", "--port", str(port), *args, "--nagios"])
    return outcome.exit_code, outcome.output


@pytest.mark.parametrize("type_name", sorted(LOGINS))
def test_check_command_refuses_a_login_without_tls_and_the_server_hears_nothing(cli, start, ca, ca_file, tmp_path,
                                                                                type_name):
    make, (user, password), offer = LOGINS[type_name]
    server, received = make(start, ca, tmp_path)
    login = ["-o", f"username={user}", "-o", f"password={password}", "--ca-file", ca_file]
    status, line = check_line(cli, type_name, server.port, "--tls", "none", *login)
    assert status == 3
    assert line.startswith(f"{type_name.upper()} UNKNOWN - {REFUSED}{offer} (config_error) |")
    assert received() == []
    # The same login with STARTTLS reaches the server and logs in, the password never printed.
    status, line = check_line(cli, type_name, server.port, "--tls", "starttls", *login)
    assert (status, password in line) == (0, False), line
    assert "login ok" in line


@pytest.mark.parametrize("type_name", sorted(LOGINS))
def test_check_command_refuses_a_password_without_a_user_name(cli, type_name):
    status, line = check_line(cli, type_name, 1, "--tls", "starttls", "-o", "password=lonely")
    assert (status, line) == (3, f"{type_name.upper()} UNKNOWN - invalid {type_name} settings: "
                                 "password: a password needs the test account's user name too\n")


@pytest.mark.parametrize("transport, tls, refusal", [
    pytest.param("tls", "none", "the tls transport speaks TLS from the first byte: use TLS mode implicit, "
                                "or set the transport to udp, tcp or auto", id="tls-without-tls"),
    pytest.param("udp", "implicit", "the udp transport is plaintext: use TLS mode none, or set the transport to "
                                    "tls or auto", id="udp-with-tls"),
    pytest.param("tcp", "implicit", "the tcp transport is plaintext: use TLS mode none, or set the transport to "
                                    "tls or auto", id="tcp-with-tls"),
])
def test_sip_check_command_refuses_a_transport_that_contradicts_the_tls_mode(cli, start, ca, ca_file, transport, tls,
                                                                             refusal):
    server = start(SipResponder, transport, tls=server_tls(ca, "127.0.0.1") if transport == "tls" else None)
    args = ["-o", f"transport={transport}", "--ca-file", ca_file]
    status, line = check_line(cli, "sip", server.port, "--tls", tls, *args)
    assert status == 3
    assert line.startswith(f"SIP UNKNOWN - {refusal} (config_error) |")
    assert server.requests == []
    # With the TLS mode that agrees, the same responder answers.
    agrees = "implicit" if transport == "tls" else "none"
    status, line = check_line(cli, "sip", server.port, "--tls", agrees, *args)
    assert (status, line.split(" in ")[0]) == (0, "SIP OK - OPTIONS 200")
    assert len(server.requests) == 1
