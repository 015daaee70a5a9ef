"""The history tiers: raw results and 5-minute, hourly and daily rollups, each with its retention."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from .rollup import epoch_seconds

#: Configuration key of the number of days raw results are kept.
RAW_RETENTION_KEY = "HISTORY_RAW_DAYS"


@dataclass(frozen=True)
class Tier:
    """A rollup tier: buckets ``width`` seconds wide, aligned on multiples of it (UTC).

    A tier with a ``block`` keeps its buckets packed, one row per check and
    block of that many seconds (see blocks.py); the others one row per bucket.
    """

    name: str
    width: int
    retention_key: str
    block: int | None = None

    def bucket_start(self, at: int) -> int:
        """The start of the bucket that holds the epoch second ``at``."""
        return at - at % self.width

    def block_start(self, at: int) -> int:
        """The start of the block that holds the epoch second ``at``."""
        return at - at % self.block


FIVE_MINUTES = Tier("5-minute", 300, "HISTORY_5MIN_DAYS", block=3600)
HOURLY = Tier("hourly", 3600, "HISTORY_HOURLY_DAYS", block=86400)
DAILY = Tier("daily", 86400, "HISTORY_DAILY_DAYS")
#: Finest first.
TIERS = (FIVE_MINUTES, HOURLY, DAILY)
#: The tiers packed a block to a row, and the one kept a row per bucket (what the daily bars read).
PACKED_TIERS = (FIVE_MINUTES, HOURLY)


def retention_cutoff(config: Mapping[str, Any], key: str, now: datetime) -> int | None:
    """The epoch second before which data under ``key`` has expired; None when it is kept for good."""
    days = config.get(key)
    if days is None:
        return None
    return epoch_seconds(now - timedelta(days=days))


def keeps_from(config: Mapping[str, Any], key: str, width: int, start: int, now: datetime) -> bool:
    """Whether data kept under ``key`` in buckets ``width`` seconds wide is all still there from ``start`` on.

    Retention drops a bucket once all of it is older than the cutoff (see
    retention.py); raw results count as buckets one second wide.
    """
    cutoff = retention_cutoff(config, key, now)
    return cutoff is None or start + width > cutoff
