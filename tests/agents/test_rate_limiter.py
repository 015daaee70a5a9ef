"""The agent API's rate limiter is shared by a worker's request threads: it grants exactly its rate, however many ask."""
from __future__ import annotations

import threading

from ninerstatus.agents.access import RateLimiter


def test_many_threads_at_once_get_exactly_the_bucket_and_no_more():
    limiter = RateLimiter(per_minute=50, clock=lambda: 1000.0)  # time stands still: no refill
    granted, start = [], threading.Barrier(16)

    def ask() -> None:
        start.wait()
        granted.extend(limiter.wait_needed(7) == 0.0 for _ in range(20))

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 50 and len(granted) == 320
    assert limiter.wait_needed(8) == 0.0  # another location has its own bucket


def test_a_refused_request_is_told_when_one_more_is_allowed_and_then_gets_it():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, clock=lambda: now[0])
    assert all(limiter.wait_needed(1) == 0.0 for _ in range(60))
    assert limiter.wait_needed(1) == 1.0
    now[0] += 1.0
    assert limiter.wait_needed(1) == 0.0
