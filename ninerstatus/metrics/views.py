"""The ``metrics`` blueprint: ``GET /metrics`` in the Prometheus exposition format, for scrapers only."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, request
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from ..timeutil import utcnow
from .access import MetricsAccess
from .collectors import SiteCollector

bp = Blueprint("metrics", __name__)

#: Where create_app keeps the guards and the request metrics (see ``init_metrics``).
ACCESS_KEY = "ninerstatus.metrics.access"
REQUESTS_KEY = "ninerstatus.metrics.requests"


@bp.get("/metrics")
def scrape():
    """The site's metrics for Prometheus, to a scraper with the token or from an allowed address."""
    access: MetricsAccess = current_app.extensions[ACCESS_KEY]
    refusal = access.refusal(request.remote_addr, request.headers.get("Authorization"))
    if refusal == 401:
        return ("A bearer token is needed: send Authorization: Bearer <METRICS_TOKEN>.\n", 401,
                {"WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain; charset=utf-8",
                 "Cache-Control": "no-store"})
    if refusal is not None:
        abort(refusal)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SiteCollector(current_app.config, utcnow()))
    registry.register(current_app.extensions[REQUESTS_KEY].collector())
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    # no-store: neither the page cache nor any proxy may keep one allowed client's answer for another.
    return encode(registry), 200, {"Content-Type": content_type, "Cache-Control": "no-store"}
