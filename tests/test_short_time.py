"""``short_time``: a moment in UTC as briefly as it stays clear, kept per worker by moment and UTC day."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from ninerstatus.checks.status import short_time

UTC = timezone.utc
MOMENT = datetime(2026, 11, 28, 14, 2, 30, tzinfo=UTC)


def test_the_same_moment_reads_shorter_on_its_own_day_than_later():
    assert short_time(MOMENT, MOMENT + timedelta(hours=9)) == "14:02 UTC"
    # Kept for one day is never shown on the next: the day is part of what is kept.
    assert short_time(MOMENT, MOMENT + timedelta(hours=10)) == "28 Nov 14:02 UTC"
    assert short_time(MOMENT, datetime(2027, 1, 2, tzinfo=UTC)) == "28 Nov 2026 14:02 UTC"


def test_moments_and_nows_in_other_zones_are_told_in_utc():
    tokyo, new_york = timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))
    # 23:02 in Tokyo is 14:02 UTC; "now" in New York at 20:00 is 01:00 UTC the next day.
    assert short_time(MOMENT.astimezone(tokyo), datetime(2026, 11, 28, 12, tzinfo=new_york)) == "14:02 UTC"
    assert short_time(MOMENT.astimezone(tokyo), datetime(2026, 11, 28, 20, tzinfo=new_york)) == "28 Nov 14:02 UTC"


def test_threads_asking_for_many_moments_at_once_each_get_their_own():
    moments = [MOMENT + timedelta(minutes=7 * n) for n in range(2000)]
    now = MOMENT + timedelta(hours=1)
    expected = [short_time(moment, now) for moment in moments]
    with ThreadPoolExecutor(8) as pool:
        for drawn in pool.map(lambda _: [short_time(moment, now) for moment in moments], range(8)):
            assert drawn == expected
    assert expected[0] == "14:02 UTC" and expected[-1] == "8 Dec 07:15 UTC"
