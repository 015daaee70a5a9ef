"""Per-location history: each location's raw results and daily tallies, written once, read back, kept on time."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import delete, func, select, text

from ninerstatus.agents.locations import site_location
from ninerstatus.agents.models import Location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.located import location_samples, record_location_samples, uptime_by_location
from ninerstatus.history.models import LocationDailyTally, LocationRawResults
from ninerstatus.history.rollup import Sample, Tally
from ninerstatus.probing import Status

from ..agents.conftest import add_location
from ..factories import make_server
from .conftest import add_check, at

OK, WARN, CRIT, UNKNOWN = Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN
DAY = 86400
# 2026-03-01 10:00 UTC.
HOUR = int(at("2026-03-01 10:00").timestamp())
MIDNIGHT = HOUR - 10 * 3600


@pytest.fixture
def places(ctx):
    """Two checks of NC036, the site's own location and two agent locations."""
    server = make_server("NC036")
    smtp, imap = add_check(server, "SMTP"), add_check(server, "IMAP")
    site = site_location()
    lusaka, _ = add_location("Lusaka", [smtp.id, imap.id], network="MTN")
    frankfurt, _ = add_location("Frankfurt", [smtp.id])
    db.session.commit()
    return {"smtp": smtp.id, "imap": imap.id, "site": site.id, "lusaka": lusaka.id, "frankfurt": frankfurt.id}


def sample(check_id: int, at_second: int, status: Status = OK, latency: int | None = 20_000,
           error: str | None = None, maintenance: bool = False) -> Sample:
    return Sample(check_id, at_second, status, latency, error, maintenance)


def daily(check_id: int, location_id: int, day: int) -> Tally | None:
    row = db.session.get(LocationDailyTally, (check_id, day, location_id))
    return None if row is None else row.tally()


def test_results_are_read_back_exactly_per_location_oldest_first(places):
    smtp, lusaka, frankfurt = places["smtp"], places["lusaka"], places["frankfurt"]
    written = [
        (lusaka, sample(smtp, HOUR + 3605, CRIT, None, "connect_timeout")),
        (frankfurt, sample(smtp, HOUR + 7, WARN, 2_500_000)),
        (lusaka, sample(smtp, HOUR + 5, OK, 12_345)),
        (lusaka, sample(smtp, HOUR + 65, UNKNOWN, None, "not a listed kind", maintenance=True)),
        (frankfurt, sample(smtp, HOUR - 1, OK, 0)),
        (lusaka, sample(places["imap"], HOUR + 6, OK, 9)),
    ]
    assert record_location_samples(written) == 6
    db.session.commit()
    assert location_samples(smtp, HOUR - 3600, HOUR + 7200) == {
        lusaka: [sample(smtp, HOUR + 5, OK, 12_345),
                 sample(smtp, HOUR + 65, UNKNOWN, None, "not a listed kind", maintenance=True),
                 sample(smtp, HOUR + 3605, CRIT, None, "connect_timeout")],
        frankfurt: [sample(smtp, HOUR - 1, OK, 0), sample(smtp, HOUR + 7, WARN, 2_500_000)]}
    # The bounds: from ``start`` included up to ``end`` left out, to the second.
    assert location_samples(smtp, HOUR + 5, HOUR + 3605) == {
        lusaka: [sample(smtp, HOUR + 5, OK, 12_345),
                 sample(smtp, HOUR + 65, UNKNOWN, None, "not a listed kind", maintenance=True)],
        frankfurt: [sample(smtp, HOUR + 7, WARN, 2_500_000)]}
    assert location_samples(places["imap"], HOUR, HOUR + 3600) == {lusaka: [sample(places["imap"], HOUR + 6, OK, 9)]}
    # One row per check, hour and location.
    assert db.session.scalar(select(func.count()).select_from(LocationRawResults)) == 5


def test_a_result_seen_again_is_not_counted_twice(places):
    smtp, lusaka, frankfurt = places["smtp"], places["lusaka"], places["frankfurt"]
    first = [(lusaka, sample(smtp, HOUR + 5)), (lusaka, sample(smtp, HOUR + 65, CRIT, None))]
    assert record_location_samples(first) == 2
    # A batch offered again, with one new result out of order, and the same second seen from another location.
    again = first + [(lusaka, sample(smtp, HOUR + 1, WARN, 700)), (frankfurt, sample(smtp, HOUR + 5))]
    assert record_location_samples(again) == 2
    assert record_location_samples(again) == 0
    db.session.commit()
    assert [item.checked_at for item in location_samples(smtp, HOUR, HOUR + 3600)[lusaka]] == [
        HOUR + 1, HOUR + 5, HOUR + 65]
    assert (daily(smtp, lusaka, MIDNIGHT).up, daily(smtp, lusaka, MIDNIGHT).degraded,
            daily(smtp, lusaka, MIDNIGHT).down) == (1, 1, 1)
    assert daily(smtp, frankfurt, MIDNIGHT).results == 1


def test_each_location_gets_its_daily_tally_of_what_it_saw(places):
    smtp, lusaka, frankfurt = places["smtp"], places["lusaka"], places["frankfurt"]
    late = MIDNIGHT + DAY - 60
    lusaka_day = [sample(smtp, late - 600 + minute * 60, Status(minute % 4), 1000 + minute * 7919,
                         maintenance=minute == 5) for minute in range(10)]
    pairs = [(lusaka, item) for item in lusaka_day]
    # Past midnight: the next day's row; from Frankfurt: a row of its own.
    pairs += [(lusaka, sample(smtp, MIDNIGHT + DAY, CRIT, None)), (frankfurt, sample(smtp, late, OK, 50))]
    # In two batches, split inside the day: the upsert adds up to what one batch would write.
    record_location_samples(pairs[:4])
    record_location_samples(pairs[4:])
    db.session.commit()
    assert daily(smtp, lusaka, MIDNIGHT) == Tally.of_samples(lusaka_day)
    assert daily(smtp, lusaka, MIDNIGHT).maintenance == 1
    assert daily(smtp, lusaka, MIDNIGHT + DAY) == Tally(down=1)
    assert daily(smtp, frankfurt, MIDNIGHT) == Tally.of_samples([sample(smtp, late, OK, 50)])
    assert daily(smtp, places["site"], MIDNIGHT) is None


def test_uptime_by_location_reads_the_30_days_up_to_today(places):
    smtp, imap, lusaka, frankfurt = places["smtp"], places["imap"], places["lusaka"], places["frankfurt"]
    now = at("2026-03-01 10:00")
    pairs = [
        # Today and 29 days before count; 30 days before does not, nor a day stored in the future.
        (lusaka, sample(smtp, MIDNIGHT + 5, OK)), (lusaka, sample(smtp, MIDNIGHT - 29 * DAY, CRIT)),
        (lusaka, sample(smtp, MIDNIGHT + 7, WARN)), (lusaka, sample(smtp, MIDNIGHT + 9, OK)),
        (lusaka, sample(smtp, MIDNIGHT - 30 * DAY + 86399, CRIT)), (lusaka, sample(smtp, MIDNIGHT + DAY, CRIT)),
        # Maintenance and UNKNOWN never count: measured nothing, so no figure.
        (frankfurt, sample(smtp, MIDNIGHT + 5, CRIT, maintenance=True)), (frankfurt, sample(smtp, MIDNIGHT + 6, UNKNOWN)),
        (lusaka, sample(imap, MIDNIGHT + 5, OK)),
    ]
    record_location_samples(pairs)
    db.session.commit()
    assert uptime_by_location([smtp, imap], now) == {(smtp, lusaka): 0.5, (smtp, frankfurt): None,
                                                     (imap, lusaka): 1.0}
    assert uptime_by_location([smtp], now, days=1) == {(smtp, lusaka): 2 / 3, (smtp, frankfurt): None}
    assert uptime_by_location([], now) == {}


def test_rows_go_with_their_location_or_their_check(places):
    smtp, imap, lusaka, frankfurt = places["smtp"], places["imap"], places["lusaka"], places["frankfurt"]
    record_location_samples([(lusaka, sample(smtp, HOUR)), (frankfurt, sample(smtp, HOUR)),
                             (lusaka, sample(imap, HOUR)), (frankfurt, sample(imap, HOUR))])
    db.session.commit()
    db.session.execute(delete(Location).where(Location.id == lusaka))
    db.session.commit()
    kept = select(LocationRawResults.check_id, LocationRawResults.location_id)
    assert sorted(db.session.execute(kept).all()) == [(smtp, frankfurt), (imap, frankfurt)]
    db.session.execute(delete(Check).where(Check.id == smtp))
    db.session.commit()
    assert db.session.execute(kept).all() == [(imap, frankfurt)]
    assert db.session.execute(select(LocationDailyTally.check_id, LocationDailyTally.location_id)).all() == [
        (imap, frankfurt)]


def spoil_raw(check_id: int, location_id: int, start: int, data: bytes) -> None:
    db.session.execute(text("UPDATE history_location_raw SET results = :data WHERE check_id = :check "
                            "AND location_id = :location AND hour_start = :start"),
                       {"data": data, "check": check_id, "location": location_id, "start": start})
    db.session.commit()


def test_a_spoiled_raw_row_is_logged_and_skipped_and_recording_goes_on(places, caplog):
    smtp, lusaka, frankfurt = places["smtp"], places["lusaka"], places["frankfurt"]
    record_location_samples([(lusaka, sample(smtp, HOUR + 5)), (frankfurt, sample(smtp, HOUR + 5)),
                             (lusaka, sample(smtp, HOUR + 3605))])
    db.session.commit()
    spoil_raw(smtp, lusaka, HOUR, b"\x01\x05")
    caplog.set_level(logging.WARNING, "ninerstatus.history")
    # Older than the spoiled row's last second as it reads, so the row must be unpacked to be merged into.
    assert record_location_samples([(lusaka, sample(smtp, HOUR + 2, CRIT, None)),
                                    (frankfurt, sample(smtp, HOUR + 2, CRIT, None))]) == 2
    db.session.commit()
    assert (f"raw results of check {smtp} in the hour from {HOUR} at location {lusaka} cannot be read, so 1 new "
            "results are kept in the rollups only") in caplog.text
    # The spoiled row is left for a person to look at; its new result counts in the daily tally.
    assert db.session.get(LocationRawResults, (smtp, HOUR, lusaka)).results == b"\x01\x05"
    assert daily(smtp, lusaka, MIDNIGHT) == Tally.of_samples(
        [sample(smtp, HOUR + 5), sample(smtp, HOUR + 3605), sample(smtp, HOUR + 2, CRIT, None)])
    assert location_samples(smtp, HOUR, HOUR + 7200) == {
        lusaka: [sample(smtp, HOUR + 3605)],
        frankfurt: [sample(smtp, HOUR + 2, CRIT, None), sample(smtp, HOUR + 5)]}
    assert f"raw results of check {smtp} in the hour from {HOUR} at location {lusaka} are left out" in caplog.text


def test_a_spoiled_daily_row_costs_only_its_own_new_results(places, caplog):
    smtp, imap, lusaka = places["smtp"], places["imap"], places["lusaka"]
    # A response-time histogram whose last count is cut short: the upsert cannot merge into it.
    db.session.add(LocationDailyTally(check_id=smtp, day_start=MIDNIGHT, location_id=lusaka, up=1, latency_min_us=5,
                                      latency_max_us=5, latency_sum_us=5, histogram=b"\x05\x80"))
    db.session.commit()
    caplog.set_level(logging.WARNING, "ninerstatus.history")
    assert record_location_samples([(lusaka, sample(smtp, HOUR)), (lusaka, sample(imap, HOUR))]) == 2
    db.session.commit()
    assert daily(smtp, lusaka, MIDNIGHT).up == 1
    assert daily(imap, lusaka, MIDNIGHT).up == 1
    assert location_samples(smtp, HOUR, HOUR + 1) == {lusaka: [sample(smtp, HOUR)]}
    assert (f"history bucket of check {smtp} (day from {MIDNIGHT}, location {lusaka}) cannot be updated as stored"
            in caplog.text)


def test_nothing_to_record_writes_nothing(places):
    assert record_location_samples([]) == 0
    assert db.session.scalar(select(func.count()).select_from(LocationRawResults)) == 0
