"""Tests of the bundled check plugins against real servers on loopback."""
