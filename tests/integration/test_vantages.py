"""The regional tests' vantage points: namespaces that reach the real services, one of them cut off by a firewall rule."""
from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from .netns import SERVICE_ADDRESS, namespaces_unavailable, vantage_network

pytestmark = pytest.mark.integration

GREETING = ("import socket, sys\n"
            "try:\n"
            "    with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3) as s:\n"
            "        print(s.recv(200).decode(errors='replace'))\n"
            "except OSError as error:\n"
            "    print(type(error).__name__)\n")


@pytest.fixture
def network(services):
    """Two vantages reaching the real postfix's submission port at SERVICE_ADDRESS:587."""
    reason = namespaces_unavailable()
    if reason:
        pytest.skip(f"the regional tests need network namespaces: {reason}")
    with vantage_network(2) as made:
        made.forward(587, services.port("SMTP_SUBMISSION"))
        yield made


def greeting(command: list[str]) -> str:
    return subprocess.run([*command, sys.executable, "-c", GREETING, SERVICE_ADDRESS, "587"], capture_output=True,
                          text=True, timeout=60).stdout.strip()


def test_a_blocked_vantage_times_out_while_the_other_and_this_host_reach_the_service(network):
    a, b = network.vantages
    assert greeting(a.command([])).startswith("220 ") and greeting(b.command([])).startswith("220 ")
    network.block(a, 587)
    assert greeting(a.command([])) in ("TimeoutError", "timeout")
    assert greeting(b.command([])).startswith("220 ")
    assert greeting([]).startswith("220 ")  # this host, as the site's own runner probes
    network.unblock(a, 587)
    assert greeting(a.command([])).startswith("220 ")
