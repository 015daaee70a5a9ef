"""Web request metrics: how many requests each route answered, with what status, and how fast.

``RequestMetrics`` is WSGI middleware outside everything else the site
wraps itself in, so it counts what visitors got: pages the page cache
answered, hosts refused with 400, bodies refused with 413 included. Labels
are kept few and bounded: the Flask endpoint (``public.home``,
``api.summary``...; any address no route matches is ``unmatched``, so a
crawler trying a million addresses adds one series, not a million), the
method (the usual ones, else ``other``) and the status class (``2xx``...).
The duration is from the request reaching the site to its answer being
ready (the bodies served here are built in memory before they are sent).

Worker processes: ``ninerstatus serve`` runs several, each with its own
memory, and a scrape reaches one of them. So when the environment names
``PROMETHEUS_MULTIPROC_DIR``, prometheus_client's multiprocess mode is used:
each process writes its counts to memory-mapped files there and a scrape
adds up every process's files (processes that ended included, so counts
never go back). ``serve`` empties that folder in the instance folder and names it
before its workers start (``prepare_worker_folder``); with another server,
set the variable yourself to an empty folder, emptied at every start.
Without it each process counts for itself (one process: ``flask run``, tests).
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from flask import Flask, request
from prometheus_client import CollectorRegistry, Counter, Histogram, values
from prometheus_client.multiprocess import MultiProcessCollector
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

#: The variable prometheus_client reads to share metrics between processes.
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
#: Where ``serve`` keeps its workers' metrics, in the instance folder.
WORKER_FOLDER = "metrics-workers"
#: The WSGI environ key of the holder Flask writes the request's endpoint into.
ROUTE_KEY = "ninerstatus.metrics.route"
UNMATCHED = "unmatched"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: Addresses whose endpoint is remembered for requests Flask never sees (the page cache keeps 256 pages).
MAX_REMEMBERED_ADDRESSES = 1024
#: Seconds: pages from the page cache take well under a millisecond, drawn ones a few to tens.
DURATION_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Route:
    """Filled in by Flask while it handles the request: the endpoint that answered, if any did."""

    __slots__ = ("endpoint",)

    def __init__(self) -> None:
        self.endpoint: str | None = None


class RequestMetrics:
    """WSGI middleware counting and timing every request (see the module docstring).

    :param url_map: the site's routes, to name the endpoint of a request
        answered before Flask saw it (the page cache's).
    """

    def __init__(self, wsgi_app, url_map) -> None:
        self.wsgi_app = wsgi_app
        self.url_map = url_map
        self.folder = os.environ.get(MULTIPROC_VARIABLE) or None
        if self.folder:
            _share_between_processes()
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("ninerstatus_http_requests", "HTTP requests answered, by route, method and status "
                                "class.", ("endpoint", "method", "status"), registry=self.registry)
        self.durations = Histogram("ninerstatus_http_request_duration_seconds", "Time to answer HTTP requests, by "
                                   "route and method.", ("endpoint", "method"), buckets=DURATION_BUCKETS,
                                   registry=self.registry)
        # Both looked up once, not per request: a page from the page cache takes tens of
        # microseconds, and matching its address against the routes would take as long again.
        # Plain dicts: a lookup or an insert is atomic, and a race only works the same value out twice.
        self._endpoints: dict[tuple[str, str, str], str] = {}
        self._series: dict[tuple[str, str, str], tuple] = {}

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        route = environ[ROUTE_KEY] = Route()
        status = ["500"]  # what a view that raised through every handler amounts to

        def start_counted_response(status_line, headers, exc_info=None):
            status[0] = status_line
            return start_response(status_line, headers, exc_info)

        try:
            return self.wsgi_app(environ, start_counted_response)
        finally:
            method = environ.get("REQUEST_METHOD", "")
            method = method if method in METHODS else "other"
            key = (route.endpoint or self._endpoint_of(environ), method, f"{status[0][:1]}xx")
            series = self._series.get(key)
            if series is None:
                series = self._series[key] = (self.requests.labels(*key), self.durations.labels(*key[:2]))
            series[0].inc()
            series[1].observe(time.perf_counter() - started)

    def _endpoint_of(self, environ) -> str:
        """The endpoint the routes give a request Flask never saw (one the page cache or intake answered)."""
        address = (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", ""))
        endpoint = self._endpoints.get(address)
        if endpoint is None:
            if len(self._endpoints) >= MAX_REMEMBERED_ADDRESSES:
                self._endpoints = {}
            endpoint = self._endpoints[address] = self._match(environ)
        return endpoint

    def _match(self, environ) -> str:
        """The endpoint of the route matching the request's address and method, or ``unmatched``."""
        try:
            adapter = self.url_map.bind("localhost", script_name=environ.get("SCRIPT_NAME") or None)
            rule, _ = adapter.match(environ.get("PATH_INFO", ""), method=environ.get("REQUEST_METHOD"),
                                    return_rule=True)
        except (HTTPException, RequestRedirect):
            return UNMATCHED
        return rule.endpoint

    def collector(self):
        """What a scrape reports: every process's counts in multiprocess mode, else this process's."""
        if self.folder:
            return MultiProcessCollector(None, self.folder)
        return self.registry


def _share_between_processes() -> None:
    """Make new metrics write to the multiprocess folder.

    prometheus_client chooses how metrics keep values once, when first
    imported; ``serve`` builds the site (and so imports it) before it names
    the folder and forks its workers, which inherit that first choice.
    """
    if not getattr(values.ValueClass, "_multiprocess", False):
        values.ValueClass = values.MultiProcessValue()


def note_endpoint(_error: BaseException | None = None) -> None:
    """At the end of every request Flask handled: tell ``RequestMetrics`` which endpoint answered it."""
    route = request.environ.get(ROUTE_KEY)
    if route is not None:
        route.endpoint = request.url_rule.endpoint if request.url_rule is not None else UNMATCHED


def init_request_metrics(app: Flask) -> RequestMetrics:
    """Wrap ``app`` in ``RequestMetrics``, outermost, and return it."""
    metrics = RequestMetrics(app.wsgi_app, app.url_map)
    app.wsgi_app = metrics
    app.teardown_request(note_endpoint)
    return metrics


def prepare_worker_folder(instance_path: str | Path) -> Path:
    """Empty the workers' metrics folder in the instance folder and name it to the processes started from here.

    ``serve`` calls this before its workers start: counts left by an earlier
    run would otherwise be added to this one's.
    """
    folder = Path(instance_path) / WORKER_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ[MULTIPROC_VARIABLE] = str(folder)
    return folder
