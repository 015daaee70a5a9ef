"""The ssh_banner check type against SSH banner servers on 127.0.0.1.

Each test starts a one-connection server that sends what a real (or a broken)
SSH server would, and records what the probe sent back.
"""
from __future__ import annotations

import socket
import threading
import time

import pytest

from ninerstatus import ErrorKind, Status
from ninerstatus.probing import Target, run_probe
from ninerstatus_ssh_banner import CLIENT_IDENTIFICATION, ninerstatus_check_types


class BannerServer:
    """Accepts one connection, sends ``greeting`` (then stays silent), records what it receives."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.received = b""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            conn.sendall(self.greeting)
            conn.settimeout(3)
            try:
                while chunk := conn.recv(1024):
                    self.received += chunk
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


@pytest.fixture
def banner_server():
    servers = []

    def start(greeting: bytes) -> BannerServer:
        servers.append(BannerServer(greeting))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def check(port: int, timeout: float = 2.0, **settings: str):
    (check_type,) = ninerstatus_check_types()
    parsed = check_type.parse_settings(settings)
    return run_probe(check_type.probe, Target("127.0.0.1", port), parsed, timeout)


def test_ssh_banner_reports_the_software_of_an_ssh2_server(banner_server):
    server = banner_server(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    result = check(server.port)
    assert result.status is Status.OK, result.summary
    assert result.summary == "OpenSSH_9.2p1 (SSH-2.0)"
    assert result.details["comments"] == "Debian-2+deb12u3"
    assert result.timings.banner is not None
    server.close()
    assert server.received == CLIENT_IDENTIFICATION.encode() + b"\r\n"


def test_ssh_banner_skips_lines_before_the_identification(banner_server):
    server = banner_server(b"Authorised users only\r\nAll access is logged\r\nSSH-1.99-Cisco-1.25\r\n")
    result = check(server.port)
    assert result.status is Status.OK and result.summary == "Cisco-1.25 (SSH-1.99)"
    assert result.details["preamble"] == ("Authorised users only", "All access is logged")


def test_ssh_banner_fails_when_the_software_is_not_the_expected_one(banner_server):
    server = banner_server(b"SSH-2.0-dropbear_2022.83\r\n")
    result = check(server.port, software="OpenSSH_9")
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.EXPECTATION_FAILED
    assert "dropbear_2022.83" in result.summary


def test_ssh_banner_rejects_a_protocol_1_only_server(banner_server):
    server = banner_server(b"SSH-1.5-OldSSHd\r\n")
    result = check(server.port)
    assert result.error_kind is ErrorKind.UNEXPECTED_REPLY and "SSH-1.5" in result.summary


def test_ssh_banner_reports_a_server_that_is_not_ssh(banner_server):
    server = banner_server(b"".join(b"220 welcome to FTP\r\n" for _ in range(30)))
    result = check(server.port)
    assert result.error_kind is ErrorKind.PROTOCOL_ERROR and "20 lines" in result.summary


def test_ssh_banner_bounds_an_endless_identification_line(banner_server):
    server = banner_server(b"SSH-2.0-" + b"A" * 5000)
    result = check(server.port)
    assert result.error_kind is ErrorKind.PROTOCOL_ERROR


def test_ssh_banner_returns_within_its_deadline_from_a_silent_server(banner_server):
    server = banner_server(b"")
    started = time.monotonic()
    result = check(server.port, timeout=1.0)
    assert time.monotonic() - started < 1.5
    assert result.status is Status.CRITICAL and result.error_kind is ErrorKind.READ_TIMEOUT


def test_ssh_banner_reports_a_refused_connection():
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    result = check(port)
    assert result.error_kind is ErrorKind.CONNECT_REFUSED
