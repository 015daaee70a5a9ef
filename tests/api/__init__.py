"""Tests of the JSON API: Statuspage v2 shapes, server details, caching and what it never serves."""
