"""Probe locations: vantage points on other networks whose agents probe checks and report to the site."""
