"""Vantage points of their own for the regional tests: network namespaces joined to this host by veth pairs.

Each vantage is a network namespace with one veth pair to this host and a
/30 of its own in 10.213.0.0/16, a test range made here and gone after.
From every vantage the services under test are at one address,
``SERVICE_ADDRESS``, which this host answers by DNAT to the daemons on
127.0.0.1 (the integration services, the site behind nginx); processes on
this host reach the same address the same way, so a check names one host
for every location. ``block`` drops one vantage's traffic to one port with
an nftables rule, as a firewall on an ISP's path would: the probe there
times out while the others get through.

Needs root, ``ip`` and ``nft`` (Debian's iproute2 and nftables, installed
by scripts/system-deps.sh); ``namespaces_unavailable`` says why not.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

#: Where the services under test answer, from every vantage and from this host.
SERVICE_ADDRESS = "10.213.255.1"


def _run(*args: str, input: str | None = None) -> str:
    done = subprocess.run(args, input=input, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def namespaces_unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "making network namespaces needs root (CI runs as root)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (scripts/system-deps.sh installs it)"
    probe = f"nsprobe{os.getpid()}"
    try:
        _run("ip", "netns", "add", probe)
        _run("ip", "netns", "del", probe)
        _run("nft", "list", "tables")
    except RuntimeError as error:
        return f"network namespaces or nftables cannot be used here: {error}"
    return None


@dataclass(frozen=True)
class Vantage:
    """One namespace: its name, the host's end of its veth pair, and its own address."""

    namespace: str
    host_interface: str
    address: str

    def command(self, args: Sequence[str]) -> list[str]:
        """``args`` run inside this vantage's namespace."""
        return ["ip", "netns", "exec", self.namespace, *args]


@dataclass
class VantageNetwork:
    """The vantages of one test, the forwards to the services and the blocks, all removed by ``close``."""

    tag: str
    vantages: list[Vantage] = field(default_factory=list)
    _blocks: dict[tuple[str, int, str], int] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return f"ninerstatus_{self.tag}"

    def open(self) -> None:
        """Make the nftables table: blocks before address translation, translation for vantages and this host."""
        _run("nft", "-f", "-", input=f"""
table ip {self.table} {{
  chain blocks {{ type filter hook prerouting priority -150; }}
  chain forwards {{ type nat hook prerouting priority -100; }}
  chain local_forwards {{ type nat hook output priority -100; }}
}}
""")

    def add_vantage(self) -> Vantage:
        """A new namespace joined to this host, routing everything through it."""
        index = len(self.vantages)
        block = random.Random(f"{self.tag}-{index}").randrange(1, 250)
        host_address, own_address = f"10.213.{block}.1", f"10.213.{block}.2"
        vantage = Vantage(f"ns-{self.tag}-{index}", f"v{self.tag}{index}h", own_address)
        inside = f"v{self.tag}{index}n"
        _run("ip", "netns", "add", vantage.namespace)
        self.vantages.append(vantage)
        _run("ip", "link", "add", vantage.host_interface, "type", "veth", "peer", "name", inside)
        _run("ip", "link", "set", inside, "netns", vantage.namespace)
        _run("ip", "addr", "add", f"{host_address}/30", "dev", vantage.host_interface)
        _run("ip", "link", "set", vantage.host_interface, "up")
        # Packets from the vantage may be translated to 127.0.0.1, where the daemons listen.
        _run("sysctl", "-q", "-w", f"net.ipv4.conf.{vantage.host_interface}.route_localnet=1")
        for args in (["ip", "addr", "add", f"{own_address}/30", "dev", inside], ["ip", "link", "set", inside, "up"],
                     ["ip", "link", "set", "lo", "up"], ["ip", "route", "add", "default", "via", host_address]):
            _run(*vantage.command(args))
        return vantage

    def forward(self, port: int, to_port: int, protocol: str = "tcp") -> None:
        """Answer ``SERVICE_ADDRESS:port`` with the daemon on ``127.0.0.1:to_port``, from vantages and this host."""
        match = f"ip daddr {SERVICE_ADDRESS} {protocol} dport {port} dnat to 127.0.0.1:{to_port}"
        _run("nft", "add", "rule", "ip", self.table, "forwards", "iifname", f"v{self.tag}*", *match.split())
        _run("nft", "add", "rule", "ip", self.table, "local_forwards", *match.split())

    def block(self, vantage: Vantage, port: int, protocol: str = "tcp") -> None:
        """Drop ``vantage``'s traffic to ``SERVICE_ADDRESS:port``: its probes there time out."""
        output = _run("nft", "--echo", "--handle", "add", "rule", "ip", self.table, "blocks", "iifname",
                      vantage.host_interface, "ip", "daddr", SERVICE_ADDRESS, protocol, "dport", str(port), "drop")
        self._blocks[(vantage.namespace, port, protocol)] = int(output.rsplit("# handle", 1)[1].split()[0])

    def unblock(self, vantage: Vantage, port: int, protocol: str = "tcp") -> None:
        """Let ``vantage`` through to ``port`` again."""
        handle = self._blocks.pop((vantage.namespace, port, protocol))
        _run("nft", "delete", "rule", "ip", self.table, "blocks", "handle", str(handle))

    def close(self) -> None:
        """Remove the table, the veth pairs and the namespaces (what was made so far)."""
        subprocess.run(["nft", "delete", "table", "ip", self.table], capture_output=True)
        for vantage in self.vantages:
            subprocess.run(["ip", "link", "del", vantage.host_interface], capture_output=True)
            subprocess.run(["ip", "netns", "del", vantage.namespace], capture_output=True)


@contextmanager
def vantage_network(vantages: int) -> Iterator[VantageNetwork]:
    """A test network with ``vantages`` namespaces, removed afterwards whatever happens."""
    network = VantageNetwork(f"{os.getpid() % 0xffff:04x}")
    try:
        network.open()
        for _ in range(vantages):
            network.add_vantage()
        yield network
    finally:
        network.close()
