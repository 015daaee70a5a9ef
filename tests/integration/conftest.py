"""Fixtures for the integration tests: the daemons of services.sh and a way to probe them.

The daemons are started by ``tests/integration/services.sh start`` (``make
test`` does it first); ``services`` fails every test with the command to run
when they are not up, rather than skipping: a skipped integration suite would
look green while proving nothing.
"""
from __future__ import annotations

import importlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from ninerstatus.checktypes import CheckType
from ninerstatus.probing import ProbeResult, Target, TlsMode, TlsPolicy, run_probe

STATE = Path(os.environ.get("NINERSTATUS_INTEGRATION_DIR", "/tmp/ninerstatus-integration"))
START_HINT = "run `tests/integration/services.sh start` (make test does it for you)"


@dataclass(frozen=True)
class Services:
    """What services.sh wrote to services.env: ports, zone names, the test account."""

    values: dict[str, str]

    def __getitem__(self, name: str) -> str:
        return self.values[name]

    def port(self, name: str) -> int:
        """The port called ``name`` (e.g. ``"IMAPS"`` for ``IMAPS_PORT``)."""
        return int(self.values[f"{name}_PORT"])

    @property
    def ca_file(self) -> str:
        """The private CA that signed every daemon's certificate."""
        return self.values["CA_FILE"]

    @property
    def trusting(self) -> TlsPolicy:
        """A TLS policy that trusts the private CA (and verifies everything else)."""
        return TlsPolicy(ca_file=self.ca_file)


def read_env(path: Path) -> dict[str, str]:
    """Parse services.env (KEY=VALUE lines, # comments)."""
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def services() -> Services:
    """The running integration daemons; fails with what to do when they are not running."""
    env = STATE / "services.env"
    if not env.exists():
        pytest.fail(f"integration services are not set up ({env} missing): {START_HINT}", pytrace=False)
    found = Services(read_env(env))
    down = [name for name in ("SMTP_SUBMISSION", "IMAP", "FTP", "HTTP", "DNS_PRIMARY", "DNS_SECONDARY", "SIP")
            if not _answers(found.port(name))]
    if down:
        pytest.fail(f"integration services not answering ({', '.join(down)}): {START_HINT}", pytrace=False)
    return found


def check_type(module: str, name: str) -> CheckType:
    """The check type ``name`` registered by bundled plugin ``module``.

    While a helper is still writing the plugin, its module is a one-line
    placeholder; only then is the test skipped, with the module named.
    """
    plugin = importlib.import_module(f"ninerstatus_plugins.{module}")
    hook = getattr(plugin, "ninerstatus_check_types", None)
    if hook is None:
        pytest.skip(f"plugins/{module}.py is still a placeholder")
    types = {registered.name: registered for registered in hook()}
    return types[name]


def probe(module: str, type_name: str, port: int, /, *, tls: TlsMode = TlsMode.NONE, policy: TlsPolicy | None = None,
          tls_name: str | None = None, host: str = "127.0.0.1", timeout: float = 30.0,
          **options: str) -> ProbeResult:
    """Run check type ``type_name`` of plugin ``module`` once, as the runner and CLI do.

    ``options`` are the check's settings as text, as on the command line. The daemons answer
    at once; the long default ``timeout`` only leaves room for a loaded machine.
    """
    kind = check_type(module, type_name)
    settings = kind.parse_settings({key: str(value) for key, value in options.items()})
    target = Target(host, port, tls=tls, tls_name=tls_name)
    return run_probe(kind.probe, target, settings, timeout, tls_policy=policy or TlsPolicy())
