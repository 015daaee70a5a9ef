"""Prometheus metrics at ``/metrics`` (docs/metrics.md).

- ``access.py``: who may scrape (``METRICS_TOKEN``, ``METRICS_ALLOW``);
- ``collectors.py``: per-check, runner and outbox figures read from the database at scrape time;
- ``web.py``: request counts and durations by route, correct across ``serve``'s worker processes;
- ``views.py``: the ``metrics`` blueprint that puts them together.

With neither setting, ``/metrics`` answers 404 and requests are not instrumented at all.
"""
from __future__ import annotations

from flask import Flask

from .access import MetricsAccess


def init_metrics(app: Flask) -> None:
    """Read the guards (a bad setting is a ``ConfigError``), mount ``/metrics`` and, when enabled, count requests."""
    from .views import ACCESS_KEY, REQUESTS_KEY, bp
    from .web import init_request_metrics

    access = MetricsAccess.of(app.config)
    app.extensions[ACCESS_KEY] = access
    app.register_blueprint(bp)
    if access.enabled:
        app.extensions[REQUESTS_KEY] = init_request_metrics(app)
