"""The example third-party plugin (examples/ninerstatus-ssh-banner) installs and runs.

It is installed the way a site installs any plugin distribution, into a
folder of its own, and ``ninerstatus`` then runs in a fresh process that only
finds it through the ``ninerstatus`` entry-point group.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "ninerstatus-ssh-banner"
NINERSTATUS = Path(sys.executable).parent / "ninerstatus"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The example distribution pip-installed into a folder of its own."""
    # Build from a copy so the checkout gets no build/ or egg-info litter.
    source = tmp_path_factory.mktemp("source") / EXAMPLE.name
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = tmp_path_factory.mktemp("site-packages")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True, timeout=120)
    return target


def ninerstatus(installed: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(installed), "NINERSTATUS_INSTANCE_PATH": str(tmp_path / "instance")}
    return subprocess.run([str(NINERSTATUS), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def ssh_server():
    """A loopback server that greets like OpenSSH, once."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with conn:
            conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
            conn.settimeout(2)
            try:
                conn.recv(256)
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.close()
    thread.join(timeout=5)


def test_example_plugin_is_loaded_through_its_entry_point(installed, tmp_path):
    listing = ninerstatus(installed, tmp_path, "plugins")
    assert listing.returncode == 0, listing.stderr
    assert "ssh_banner  (entry point: ninerstatus-ssh-banner 0.1.0)" in listing.stdout
    assert "ssh_banner" in listing.stdout.split("check types: ")[1]


def test_example_plugin_is_absent_without_its_distribution(tmp_path):
    env = {**os.environ, "NINERSTATUS_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("PYTHONPATH", None)
    listing = subprocess.run([str(NINERSTATUS), "plugins"], env=env, capture_output=True, text=True, timeout=60)
    assert "ssh_banner" not in listing.stdout


def test_example_check_runs_from_the_command_line_with_nagios_output(installed, tmp_path, ssh_server):
    run = ninerstatus(installed, tmp_path, "check", "ssh_banner", "--host", "127.0.0.1", "--port", str(ssh_server),
                      "-o", "software=OpenSSH_9", "--timeout", "3", "--nagios")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("SSH_BANNER OK - OpenSSH_9.2p1 (SSH-2.0) | ")


def test_example_distribution_passes_its_own_tests():
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
                         cwd=EXAMPLE, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:]
