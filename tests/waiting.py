"""Waiting in tests for something to happen, however busy the machine is.

A test never sleeps a fixed time and hopes: it waits for the condition it
needs, polling, with a limit generous enough for a machine running many other
things (CI, other test suites). The limit only turns a hang into a failure; it
is not a speed requirement, which belongs in bench/.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

#: Seconds a test waits for a condition before it fails: far beyond what any
#: correct run needs, even on two cores with a load of twelve.
PATIENCE = 60.0

T = TypeVar("T")


def wait_until(condition: Callable[[], T], timeout: float = PATIENCE, *, interval: float = 0.02,
               message: str | Callable[[], str] = "") -> T:
    """Call ``condition`` until it returns something true, and return that; fail after ``timeout`` seconds.

    ``message`` (or what it returns, worked out only on failure) says what was awaited.
    """
    deadline = time.monotonic() + timeout
    while not (outcome := condition()):
        if time.monotonic() >= deadline:
            said = message() if callable(message) else message
            raise AssertionError(f"still waiting after {timeout:g} s: {said or condition}")
        time.sleep(interval)
    return outcome
