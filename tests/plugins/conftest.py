"""Fixtures shared by the plugin tests: scripted loopback servers and trustme certificates.

They are the probing engine's own test fixtures, reused so that every plugin
test builds hostile peers and certificates the same way.
"""
from __future__ import annotations

from ..probing.conftest import ca, ca_file, serve, stranger_ca

__all__ = ["ca", "ca_file", "serve", "stranger_ca"]
