"""When a check is next due: fixed slots on each check's own grid, never a burst of missed ones.

A check due at 12:00:00 with a 60 s interval is due again at 12:01:00
whenever its probe finished, so its results stay evenly spaced (low jitter).
A runner that was down for an hour does not replay the sixty slots it
missed: the next slot is the first one on the grid after now. New checks
start at a fraction of their first interval taken from their id, so a
thousand checks added at once are spread over the interval, not probed
in one burst.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

# The golden ratio's fractional part: multiples of it modulo 1 are spread
# evenly over [0, 1) for any number of consecutive ids.
_SPREAD = (math.sqrt(5) - 1) / 2

#: The shortest interval the runner keeps to, whatever the database says: a
#: check written with 0 or a negative interval must not be probed in a loop.
#: (Staff get a longer floor from the admin form.)
MIN_INTERVAL_SECONDS = 1


def next_slot(due: datetime, interval: float, now: datetime) -> datetime:
    """The first slot after ``now`` on the grid ``due + k * interval`` (k >= 1)."""
    step = timedelta(seconds=max(interval, MIN_INTERVAL_SECONDS))
    missed = max(0, math.floor((now - due) / step))
    slot = due + step * (missed + 1)
    # Float division can land exactly on ``now``; a slot must lie in the future.
    return slot if slot > now else slot + step


def first_slot(check_id: int, interval: float, now: datetime) -> datetime:
    """When a check that was never scheduled is first due: somewhere in its first interval."""
    return now + timedelta(seconds=max(interval, MIN_INTERVAL_SECONDS) * ((check_id * _SPREAD) % 1.0))
