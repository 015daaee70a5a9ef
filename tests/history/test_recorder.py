"""The runner's write path: each result becomes a raw row and lands in one bucket of each tier."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from ninerstatus.extensions import db
from ninerstatus.history import blocks, histogram
from ninerstatus.history.models import TallyBlock
from ninerstatus.history.recorder import record_result, record_samples
from ninerstatus.history.rollup import Sample, Tally, epoch_seconds
from ninerstatus.history.tiers import FIVE_MINUTES, HOURLY
from ninerstatus.probing import ErrorKind, ProbeResult, Status, Timings

from ..factories import make_server
from .conftest import add_check, at, raw_rows, result, stored_tally


def test_a_result_is_kept_raw_with_status_latency_error_kind_and_maintenance(check):
    failed = ProbeResult(Status.CRITICAL, "refused", error_kind=ErrorKind.CONNECT_REFUSED,
                         timings=Timings(total=0.0012346), checked_at=at("2026-03-01 10:00:07.9"))
    record_result(check, failed, in_maintenance=True)
    db.session.commit()
    [row] = raw_rows(check.id)
    assert (row.checked_at, row.status, row.latency_us, row.error_kind, row.in_maintenance) == (
        int(at("2026-03-01 10:00:07").timestamp()), 2, 1235, "connect_refused", True)


def test_a_result_lands_in_its_5_minute_hourly_and_daily_bucket(check):
    record_result(check, result(Status.OK, at("2026-03-01 10:04:59"), 12.5), in_maintenance=False)
    db.session.commit()
    expected = Tally(up=1, latency_min_us=12500, latency_max_us=12500, latency_sum_us=12500,
                     histogram=histogram.encode({histogram.bucket_of(12500): 1}))
    assert stored_tally(check.id, 300, at("2026-03-01 10:00")) == expected
    assert stored_tally(check.id, 3600, at("2026-03-01 10:00")) == expected
    assert stored_tally(check.id, 86400, at("2026-03-01 00:00")) == expected


def test_bucket_boundaries_belong_to_the_bucket_they_start(check):
    record_result(check, result(Status.OK, at("2026-03-01 10:05:00")), in_maintenance=False)
    record_result(check, result(Status.CRITICAL, at("2026-03-01 23:59:59")), in_maintenance=False)
    record_result(check, result(Status.WARNING, at("2026-03-02 00:00:00")), in_maintenance=False)
    db.session.commit()
    assert stored_tally(check.id, 300, at("2026-03-01 10:00")) is None
    assert stored_tally(check.id, 300, at("2026-03-01 10:05")).up == 1
    assert stored_tally(check.id, 3600, at("2026-03-01 23:00")).down == 1
    assert stored_tally(check.id, 86400, at("2026-03-01 00:00")).results == 2
    assert stored_tally(check.id, 86400, at("2026-03-02 00:00")).degraded == 1


def test_buckets_are_utc_whatever_the_zone_of_the_result(check):
    new_york = timezone(timedelta(hours=-5))
    # 21:30 on 1 March in New York is 02:30 UTC on 2 March.
    record_result(check, result(Status.OK, datetime(2026, 3, 1, 21, 30, tzinfo=new_york)), in_maintenance=False)
    db.session.commit()
    assert stored_tally(check.id, 86400, at("2026-03-01 00:00")) is None
    assert stored_tally(check.id, 86400, at("2026-03-02 00:00")).up == 1
    assert stored_tally(check.id, 3600, at("2026-03-02 02:00")).up == 1


def test_later_results_add_to_the_open_buckets(check):
    start = at("2026-03-01 10:00")
    statuses = [Status.OK, Status.OK, Status.WARNING, Status.CRITICAL, Status.UNKNOWN]
    latencies = [30.0, 10.0, 250.0, 10_000.0, None]
    for minute, (status, latency) in enumerate(zip(statuses, latencies)):
        record_result(check, result(status, start + timedelta(minutes=minute), latency), in_maintenance=False)
    record_result(check, result(Status.CRITICAL, start + timedelta(minutes=5)), in_maintenance=True)
    db.session.commit()
    five = stored_tally(check.id, 300, start)
    assert (five.up, five.degraded, five.down, five.unknown, five.maintenance) == (2, 1, 1, 1, 0)
    # Only answers count as response times: the 10 s timeout does not.
    assert (five.latency_min_us, five.latency_max_us, five.latency_sum_us, five.latency_count) == (
        10_000, 250_000, 290_000, 3)
    hour = stored_tally(check.id, 3600, start)
    assert (hour.results, hour.maintenance, hour.down) == (6, 1, 1)
    assert hour.histogram == five.histogram


def test_the_same_result_recorded_twice_counts_once(check):
    again = result(Status.OK, at("2026-03-01 10:00:00"))
    record_result(check, again, in_maintenance=False)
    record_result(check, again, in_maintenance=False)
    assert record_samples([Sample.of(check.id, again, in_maintenance=False)]) == 0
    db.session.commit()
    assert len(raw_rows(check.id)) == 1
    assert stored_tally(check.id, 86400, at("2026-03-01 00:00")).up == 1


def test_the_recorder_leaves_the_commit_to_the_caller(check):
    record_result(check, result(Status.OK, at("2026-03-01 10:00")), in_maintenance=False)
    db.session.rollback()
    assert raw_rows(check.id) == []
    assert stored_tally(check.id, 300, at("2026-03-01 10:00")) is None


def test_a_batch_and_one_by_one_write_the_same_rollups(ctx):
    server = make_server("NC036")
    one_by_one, batched = add_check(server, "one"), add_check(server, "batch")
    start = at("2026-03-01 23:50")
    samples = [result(Status(minute % 4), start + timedelta(minutes=minute), 1.0 + minute * 7.3)
               for minute in range(25)]
    for probe in samples:
        record_result(one_by_one, probe, in_maintenance=probe.status is Status.WARNING)
    assert record_samples([Sample.of(batched.id, probe, in_maintenance=probe.status is Status.WARNING)
                           for probe in samples]) == 25
    db.session.commit()
    for width, bucket in ((300, "2026-03-01 23:55"), (3600, "2026-03-01 23:00"), (86400, "2026-03-02 00:00")):
        assert stored_tally(batched.id, width, at(bucket)) == stored_tally(one_by_one.id, width, at(bucket))


def test_a_naive_time_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        epoch_seconds(datetime(2026, 3, 1, 10, 0))


def test_blocks_written_a_result_at_a_time_are_packed_as_if_written_at_once(check):
    start = at("2026-03-01 22:50")
    for minute in range(75):   # across 5-minute buckets, hours and into the next day
        record_result(check, result(Status(minute % 3), start + timedelta(minutes=minute), 3.0 + minute),
                      in_maintenance=minute % 7 == 0)
    db.session.commit()
    for tier, blocks_written in ((FIVE_MINUTES, 3), (HOURLY, 2)):
        rows = db.session.execute(select(TallyBlock.block_start, TallyBlock.tallies)
                                  .where(TallyBlock.check_id == check.id, TallyBlock.width == tier.width)).all()
        assert len(rows) == blocks_written
        for block_start, data in rows:
            assert bytes(data) == blocks.pack(tier, block_start, blocks.unpack(tier, block_start, data))


def test_a_block_rolled_back_or_rewritten_since_the_recorder_wrote_it_is_read_as_stored(check):
    start = at("2026-03-01 10:00")

    def record(minute: int, status: Status = Status.OK) -> None:
        record_result(check, result(status, start + timedelta(minutes=minute)), in_maintenance=False)

    record(0)
    db.session.commit()
    record(1, Status.CRITICAL)
    db.session.rollback()
    record(2)
    db.session.commit()
    five = stored_tally(check.id, 300, start)
    assert (five.up, five.down) == (2, 0)
    # Someone else's write (another runner, an import) since: the stored tallies are added to, not ours.
    other = Tally(up=40, down=2)
    db.session.execute(update(TallyBlock).where(TallyBlock.check_id == check.id, TallyBlock.width == 3600)
                       .values(tallies=blocks.pack(HOURLY, epoch_seconds(at("2026-03-01 00:00")),
                                                   {epoch_seconds(start): other})))
    db.session.commit()
    record(3, Status.CRITICAL)
    db.session.commit()
    hour = stored_tally(check.id, 3600, start)
    assert (hour.up, hour.down) == (40, 3)
