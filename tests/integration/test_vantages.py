"""The regional tests: namespaces that reach the real services, one of them cut off by a firewall rule, and
agents in them reporting to a site run as in production. Run with ``-s`` to see the states the site shows."""
from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme

from ninerstatus.probing import TlsMode

from .. import processes
from ..agents.realsite import (Shown, Site, Timeline, add_check, public_state, seen_by, seen_by_all,
                               site_location_name, site_running, start_logged)
from ..test_serve import _free_port
from ..waiting import wait_until
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


# ------------------------------------------------------------ agents in the vantages

FRONT = """worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    # Bodies and answers stay in memory: the workers need no access to the test's folder.
    client_body_buffer_size 4m;
    proxy_buffering off;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {folder}/site.pem;
        ssl_certificate_key {folder}/site.key;
        location / {{
            proxy_pass http://127.0.0.1:{site_port};
            proxy_set_header Host $http_host;
        }}
    }}
}}
"""


def _tls_answers(port: int, ca: Path) -> bool:
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            with context.wrap_socket(sock, server_hostname=SERVICE_ADDRESS):
                return True
    except OSError:
        return False


@contextmanager
def tls_front(folder: Path, site_port: int) -> Iterator[tuple[int, Path]]:
    """nginx in front of the site with HTTPS, as in production, its certificate naming SERVICE_ADDRESS (agents
    leave their namespaces only over HTTPS); yields its port on 127.0.0.1 and the CA file that signed it."""
    folder.mkdir()
    authority = trustme.CA(organization_name="ninerstatus regional test CA")
    leaf = authority.issue_cert(SERVICE_ADDRESS)
    leaf.cert_chain_pems[0].write_to_path(str(folder / "site.pem"))
    leaf.private_key_pem.write_to_path(str(folder / "site.key"))
    authority.cert_pem.write_to_path(str(folder / "ca.pem"))
    port = _free_port()
    (folder / "nginx.conf").write_text(FRONT.format(folder=folder, port=port, site_port=site_port))
    front = start_logged([shutil.which("nginx") or "nginx", "-c", folder / "nginx.conf", "-e", folder / "error.log"],
                         folder / "nginx.log", {})
    try:
        wait_until(lambda: _tls_answers(port, folder / "ca.pem"), message="nginx answering over TLS")
        yield port, folder / "ca.pem"
    finally:
        processes.stop(front)


@pytest.fixture
def site(app, tmp_path, request) -> Iterator[Site]:
    with site_running(app, tmp_path / "site", request) as running:
        yield running


def test_a_location_cut_off_is_a_regional_degradation_and_a_quorum_cut_off_an_outage(network, services, site, app,
                                                                                      tmp_path):
    # The site's own runner is a location too, on this host, where no block applies: of three locations, "down"
    # must mean the two agents agree. Set, not left to the default majority, which counts only the locations
    # fresh at the moment: with one agent's probes slowed by timeouts, a majority could be one of two.
    check_id = add_check(app, SERVICE_ADDRESS, 587, interval=3, timeout=2, tls=TlsMode.STARTTLS,
                         tls_name=services["TLS_NAME"], ca_file=services.ca_file, quorum=2)
    # The agents reach the site at the address of its TLS front, staff (this test) at the web process itself.
    site.env["NINERSTATUS_TRUSTED_HOSTS"] = json.dumps([SERVICE_ADDRESS, "127.0.0.1"])
    site.start_web()
    site.start_runner()
    site.sign_in_as_admin()
    places = {"Lusaka": "MTN", "Frankfurt": "Hetzner"}
    tokens = {name: site.add_location(name, network_name, [check_id]) for name, network_name in places.items()}
    with tls_front(tmp_path / "front", site.port) as (front_port, front_ca):
        network.forward(443, front_port)
        lusaka, frankfurt = network.vantages
        agents = {name: site.start_agent(name, tokens[name], prefix=vantage.command([]),
                                         site_url=f"https://{SERVICE_ADDRESS}/", options=["--ca-file", front_ca])
                  for name, vantage in (("Lusaka", lusaka), ("Frankfurt", frankfurt))}
        timeline, shown = Timeline(), []
        print()

        def watch() -> Shown:
            """What visitors are shown now (printed when it changes, and kept)."""
            shown.append(timeline.saw(public_state(site)))
            return shown[-1]

        def failures_from_lusaka() -> int:
            return sum(status == "CRITICAL" for _, _, status, _ in agents["Lusaka"].results())

        own = site_location_name(app)  # the site's runner, on this host
        timeline.saw(wait_until(lambda: seen_by_all(app, check_id, [own, *places], "OK"),
                                message=lambda: f"every location reaching postfix: {seen_by(app, check_id)}"))
        wait_until(lambda: watch().everywhere == "OPERATIONAL" and "from 3 of 3" in shown[-1].summary, interval=0.5,
                   message="the service shown up from the three locations")

        print(f"  blocking Lusaka's traffic to {SERVICE_ADDRESS}:587", flush=True)
        network.block(lusaka, 587)
        regional_from = len(shown)
        timeline.saw(wait_until(lambda: seen_by_all(app, check_id, ["Lusaka"], "CRITICAL"),
                                message="Lusaka's agent seeing the service time out"))
        degraded = wait_until(lambda: watch().everywhere == "DEGRADED" and shown[-1], interval=0.5,
                              message="the regional state on the page and in the API")
        assert degraded.summary.startswith("Reachable from 2 of 3 locations. From Lusaka (MTN): timed out"), degraded
        assert "Frankfurt" not in degraded.summary and own not in degraded.summary, degraded
        # Held there while Lusaka goes on failing: three more of its results, each a timeout.
        enough = failures_from_lusaka() + 3
        wait_until(lambda: watch() and failures_from_lusaka() >= enough, interval=0.5, message="Lusaka failing on")
        assert not [seen for seen in shown[regional_from:] if "OUTAGE" in (seen.page, seen.api)], shown[regional_from:]

        print(f"  blocking Frankfurt's traffic to {SERVICE_ADDRESS}:587 too", flush=True)
        network.block(frankfurt, 587)
        outage = wait_until(lambda: watch().everywhere == "OUTAGE" and shown[-1], interval=0.5,
                            message="the outage a quorum sees")
        assert outage.summary.startswith("Reachable from 1 of 3 locations."), outage
        assert "From Frankfurt (Hetzner): timed out" in outage.summary and "From Lusaka (MTN)" in outage.summary
        assert timeline.saw(seen_by(app, check_id))[own][0] == "OK"  # this host still reaches it: not a quorum
