"""Fixtures shared by the plugin tests: scripted loopback servers and trustme certificates.

``serve``, ``ca``, ``ca_file`` and ``stranger_ca`` are the probing engine's own
test fixtures, reused so that every plugin test builds hostile peers and
certificates the same way. ``start`` runs any test server for one test;
``cli`` runs ``ninerstatus`` commands such as ``check``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask.testing import FlaskCliRunner

from ninerstatus import create_app

from ..probing.conftest import ca, ca_file, serve, stranger_ca

__all__ = ["ca", "ca_file", "cli", "serve", "start", "stranger_ca"]


@pytest.fixture
def start() -> Iterator[Callable[..., Any]]:
    """``start(Server, *args, **kwargs)`` builds a server (anything with ``close()``) and closes it after the test."""
    servers: list[Any] = []

    def started(server_class: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        server = server_class(*args, **kwargs)
        servers.append(server)
        return server

    yield started
    for server in reversed(servers):
        server.close()


@pytest.fixture
def cli(tmp_path) -> FlaskCliRunner:
    """A runner for ``ninerstatus`` commands on a throwaway app with the bundled plugins loaded."""
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{tmp_path / 'db'}"})
    return app.test_cli_runner()
