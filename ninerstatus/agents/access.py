"""Who may use the agent API: a location's own token, a valid signature, a recent timestamp, within its rate.

Every refusal is an ``AgentRefused`` carrying the HTTP status and a code
the agent acts on (docs/agents.md): ``clock`` tells it the site's time so it
can correct its requests, ``rate`` when to come back.
"""
from __future__ import annotations

import hmac
import math
import threading
import time
from collections.abc import Callable

from flask import current_app, request
from sqlalchemy import select

from ..extensions import db
from .models import Location
from .signing import NONCE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, parse_token, secret_hash, signature


class AgentRefused(Exception):
    """A request the agent API does not answer, with its HTTP status and a machine-readable code."""

    def __init__(self, status: int, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


class RateLimiter:
    """A token bucket per location: ``per_minute`` requests a minute, bursts up to that many; thread-safe.

    Kept in each web worker's memory, so a site with N workers allows up to
    N times the rate: a bound against a runaway agent, not an accounting.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute, self.clock = max(1, per_minute), clock
        self._lock = threading.Lock()
        self._buckets: dict[int, tuple[float, float]] = {}

    def wait_needed(self, key: int) -> float:
        """Take one request from ``key``'s bucket: 0 when allowed, else the seconds until one is."""
        now, rate = self.clock(), self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate


def _limiter() -> RateLimiter:
    app = current_app._get_current_object()
    limiter = app.extensions.get("agent_rate_limiter")
    if limiter is None:
        limiter = app.extensions.setdefault("agent_rate_limiter",
                                            RateLimiter(int(app.config["AGENT_REQUESTS_PER_MINUTE"])))
    return limiter


def _unauthorised(message: str) -> AgentRefused:
    return AgentRefused(401, "unauthorised", message)


def authenticated_location(now: float) -> Location:
    """The location whose agent sent the current request (``now``: the site's Unix time); ``AgentRefused`` if none."""
    scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
    token = parse_token(credential) if scheme.lower() == "bearer" else None
    if token is None:
        raise _unauthorised("send the location's token as 'Authorization: Bearer nsa1.<id>.<secret>'")
    location = db.session.scalar(select(Location).where(Location.token_id == token.token_id))
    if location is None or location.token_hash is None or not hmac.compare_digest(
            secret_hash(token.secret), location.token_hash):
        raise _unauthorised("this token is not one the site knows")
    if location.revoked_at is not None:
        raise _unauthorised("this location's token was revoked; staff can give the location a new one")
    _check_timestamp(now)
    timestamp, nonce = request.headers.get(TIMESTAMP_HEADER, ""), request.headers.get(NONCE_HEADER, "")
    # As the agent sent it: under the prefix a proxy mounts the site at, with the query if any.
    path = request.script_root + request.path
    if request.query_string:
        path += "?" + request.query_string.decode("latin-1")
    expected = signature(str(token), request.method, path, timestamp, nonce, request.get_data(cache=True))
    if not nonce or not hmac.compare_digest(expected, request.headers.get(SIGNATURE_HEADER, "")):
        raise _unauthorised("the request's signature does not match it (altered, or signed with another token)")
    wait = _limiter().wait_needed(location.id)
    if wait > 0:
        raise AgentRefused(429, "rate", f"too many requests from this location; try again in {math.ceil(wait)} s",
                           retry_after=math.ceil(wait))
    return location


def _check_timestamp(now: float) -> None:
    """Refuse a request whose timestamp is missing or outside the window around the site's clock."""
    window = float(current_app.config["AGENT_REQUEST_WINDOW_SECONDS"])
    try:
        sent = int(request.headers.get(TIMESTAMP_HEADER, ""))
    except ValueError:
        raise AgentRefused(401, "clock", f"send the request's Unix time in {TIMESTAMP_HEADER}",
                           server_time=now) from None
    if abs(now - sent) > window:
        raise AgentRefused(401, "clock", f"the request's time is {now - sent:+.0f} s from the site's, more than "
                                         f"{window:.0f} s: correct the agent's clock or use server_time",
                           server_time=now)
