"""Find or start the PostgreSQL server that the PostgreSQL leg of the tests uses.

Order: the URL in ``NINERSTATUS_TEST_POSTGRES`` if set; else the server most
machines already run on 127.0.0.1:5432; else a throwaway cluster made with
Debian's ``postgresql`` binaries in a temporary folder on a free port. When
none of these is possible the leg fails loudly: it is never skipped.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg

from . import processes
from .waiting import PATIENCE

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _can_connect(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=10):
            return True
    except psycopg.Error:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(
            "The PostgreSQL leg of the tests needs a server: none answers on 127.0.0.1:5432 and "
            "Debian's postgresql package is not installed (`make test` installs it with apt-get), "
            "or point NINERSTATUS_TEST_POSTGRES at a server."
        )
    return found[-1]


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Run a private PostgreSQL cluster in a temporary folder; yield its admin URL."""
    folder = Path(tempfile.mkdtemp(prefix="ninerstatus-pg-"))
    # PostgreSQL refuses to run as root, so a root test run hands the cluster to "postgres".
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()
    subprocess.run([*as_user, _postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "--no-sync", "-E", "UTF8"], check=True, capture_output=True)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        with processes.started([*as_user, _postgres_bin("postgres"), "-D", str(data), "-p", str(port),
                                "-h", "127.0.0.1", "-k", str(folder), "-c", "fsync=off"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as server:
            deadline = time.monotonic() + PATIENCE
            while not _can_connect(url):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the throwaway PostgreSQL cluster in {folder} did not start")
                time.sleep(0.2)
            yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def postgres_admin_url() -> Iterator[str]:
    """Yield the URL of a PostgreSQL database on which the tests may create databases."""
    configured = os.environ.get("NINERSTATUS_TEST_POSTGRES")
    if configured:
        if not _can_connect(configured):
            raise RuntimeError(f"NINERSTATUS_TEST_POSTGRES={configured} does not answer")
        yield configured
    elif _can_connect(DEFAULT_URL):
        yield DEFAULT_URL
    else:
        with throwaway_cluster() as url:
            yield url


def create_database(admin_url: str, name: str) -> str:
    """Create database ``name`` and return its SQLAlchemy URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_url.rsplit("/", 1)[0]
    return base.replace("postgresql://", "postgresql+psycopg://", 1) + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, closing whatever connections are still open on it."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
