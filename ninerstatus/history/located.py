"""Per-location history: what each location saw of each check, raw for days and tallied by day for good.

The check's own history (recorder.py) keeps what its locations add up to,
and the bars and uptime figures read it. Beside it each location keeps its
own: its results as it saw them, packed one row per check, hour and location
as the check's raw results are (see packing.py), and their tally per UTC
day, as the check's daily rollups hold them. The writing goes through the
recorder's own steps on these tables: a result whose second the location's
row already holds is not counted again, a packed row that cannot be read is
left as it is and logged (the new results then count in the daily tally
only), and a daily row the upsert cannot add to is skipped and logged, so
one spoiled row never stops the recording.

Raw rows are kept ``HISTORY_RAW_DAYS`` days and daily rows as long as the
daily tier (see retention.py).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select

from ..extensions import db
from .models import LocationDailyTally, LocationRawResults
from .packing import HOUR, CorruptPack, hour_start, unpack
# The recorder's own steps, run on this module's tables.
from .recorder import Buckets, _add_to_buckets, _merge_packed, _merge_results, _Packed
from .rollup import Sample, Tally, epoch_seconds, uptime_ratio
from .tiers import DAILY

log = logging.getLogger(__name__)

#: The days ``uptime_by_location`` reads by default: today and the 29 before, as the daily bars count them.
UPTIME_DAYS = 30

_RAW = _Packed(LocationRawResults.__tablename__, ("check_id", "hour_start", "location_id"), "results")
_DAILY = Buckets(LocationDailyTally.__tablename__, ("check_id", "day_start", "location_id"),
                 "check %s (day from %s, location %s)")


def record_location_samples(located: Iterable[tuple[int, Sample]]) -> int:
    """Add (location id, sample) pairs to each location's history (no commit); return how many were new."""
    hours: dict[tuple, dict[int, Sample]] = defaultdict(dict)
    for location_id, sample in located:
        hours[sample.check_id, hour_start(sample.checked_at), location_id].setdefault(sample.checked_at, sample)
    if not hours:
        return 0
    connection = db.session.connection()
    cursor = connection.connection.cursor()
    try:
        new = _merge_packed(cursor, connection.dialect.name, _RAW, hours, _merge_at_location)
        if not new:
            return 0
        days: dict[tuple[int, int, int], list[Sample]] = defaultdict(list)
        for location_id, sample in new:
            days[sample.check_id, DAILY.bucket_start(sample.checked_at), location_id].append(sample)
        _add_to_buckets(connection, cursor, _DAILY,
                        [(*key, *Tally.of_samples(samples)) for key, samples in days.items()])
    finally:
        cursor.close()
    return len(new)


def _merge_at_location(key: tuple, stored: bytes | None, arrived: dict[int, Sample]) -> tuple[bytes | None, list]:
    """The recorder's merge of one packed row, the results taken in paired with the row's location."""
    data, taken = _merge_results(key, stored, arrived)
    return data, [(key[2], sample) for sample in taken]


def location_samples(check_id: int, start: int, end: int) -> dict[int, list[Sample]]:
    """Each location's raw results of check ``check_id`` from ``start`` up to ``end`` (epoch seconds).

    Keyed by location id, in id order; each location's results oldest first.
    A packed row that cannot be read is logged and left out.
    """
    table = LocationRawResults
    rows = db.session.execute(
        select(table.location_id, table.hour_start, table.results)
        .where(table.check_id == check_id, table.hour_start > start - HOUR, table.hour_start < end)
        .order_by(table.location_id, table.hour_start))
    found: dict[int, list[Sample]] = {}
    for location_id, row_start, data in rows:
        try:
            samples = unpack(check_id, row_start, data)
        except CorruptPack as error:
            log.warning("raw results of check %s in the hour from %s at location %s are left out: %s", check_id,
                        row_start, location_id, error)
            continue
        found.setdefault(location_id, []).extend(sample for sample in samples if start <= sample.checked_at < end)
    return {location_id: samples for location_id, samples in found.items() if samples}


def uptime_by_location(check_ids: Sequence[int], now: datetime,
                       days: int = UPTIME_DAYS) -> dict[tuple[int, int], float | None]:
    """Each location's uptime of each of ``check_ids`` over the ``days`` UTC days up to today, from daily rows.

    Returns ``{(check_id, location_id): uptime}``: up / (up + degraded +
    down) from 0 to 1 as rollup.uptime_ratio counts it, or None where the
    location's results in those days were all in maintenance windows or
    UNKNOWN. A location with no result of a check in those days has no key.
    The caller picks the checks (a server's public ones for visitors). A
    row stored for a later day (a clock set wrong) counts nowhere, as in the
    daily bars.
    """
    if not check_ids:
        return {}
    today = DAILY.bucket_start(epoch_seconds(now))
    table = LocationDailyTally
    sums = [func.sum(getattr(table, name)) for name in ("up", "degraded", "down")]
    query = (select(table.check_id, table.location_id, *sums)
             .where(table.check_id.in_(list(check_ids)), table.day_start > today - days * DAILY.width,
                    table.day_start <= today)
             .group_by(table.check_id, table.location_id))
    # int(): PostgreSQL adds integers up into numerics.
    return {(check_id, location_id): uptime_ratio(int(up), int(degraded), int(down))
            for check_id, location_id, up, degraded, down in db.session.execute(query)}
