"""5-minute and hourly tallies packed a block to a row: read back exactly, and a bad block skipped."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from ninerstatus.extensions import db
from ninerstatus.history import blocks, histogram
from ninerstatus.history.blocks import CorruptBlock, read_tallies
from ninerstatus.history.models import TallyBlock
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.rollup import MAX_LATENCY_US, Sample, Tally
from ninerstatus.history.sparkline import sparklines
from ninerstatus.history.tiers import FIVE_MINUTES, HOURLY
from ninerstatus.history.uptime import windows_uptime
from ninerstatus.probing import Status

from .conftest import at, stored_tally

DAY = int(at("2026-03-01 00:00").timestamp())
HOUR = DAY + 10 * 3600

TALLIES = {
    DAY: Tally(up=1, latency_min_us=0, latency_max_us=0, latency_sum_us=0, histogram=histogram.encode({0: 1})),
    DAY + 3600: Tally(down=200, unknown=3, maintenance=70_000),
    DAY + 23 * 3600: Tally(up=86_400, degraded=5, latency_min_us=120, latency_max_us=MAX_LATENCY_US,
                           latency_sum_us=2**40, histogram=histogram.encode({1: 86_000, 80: 400, 81: 5})),
}


def test_tallies_of_every_shape_pack_and_unpack_to_themselves():
    assert blocks.unpack(HOURLY, DAY, blocks.pack(HOURLY, DAY, TALLIES)) == TALLIES
    assert blocks.unpack(HOURLY, DAY, blocks.pack(HOURLY, DAY, {})) == {}


def test_an_hourly_bucket_of_a_check_probed_every_minute_takes_a_few_dozen_bytes():
    latencies = [20_000 + 37 * minute for minute in range(60)]
    tally = Tally(60, 0, 0, 0, 0, min(latencies), max(latencies), sum(latencies),
                  histogram.encode(histogram.of_latencies(latencies)))
    assert len(blocks.pack(HOURLY, DAY, {DAY: tally})) <= 1 + 30


@pytest.mark.parametrize("tier, start, bucket", [
    (HOURLY, DAY, DAY + 86400), (HOURLY, DAY, DAY - 3600), (HOURLY, DAY, DAY + 60), (FIVE_MINUTES, HOUR, HOUR + 3600),
])
def test_packing_refuses_a_bucket_outside_its_block(tier, start, bucket):
    with pytest.raises(ValueError):
        blocks.pack(tier, start, {bucket: Tally(up=1)})


def test_packing_refuses_response_times_without_their_bounds():
    with pytest.raises(ValueError):
        blocks.pack(HOURLY, DAY, {DAY: Tally(up=1, latency_sum_us=5, histogram=b"\x05\x01")})


GOOD = blocks.pack(HOURLY, DAY, TALLIES)


@pytest.mark.parametrize("tier, start, data", [
    (HOURLY, DAY, b""), (HOURLY, DAY, b"\x02" + GOOD[1:]), (HOURLY, DAY + 3600, GOOD), (HOURLY, DAY, GOOD[:-1]),
    (FIVE_MINUTES, DAY, GOOD),
    # A bucket past the block; buckets out of order; a histogram longer than the bytes left.
    (HOURLY, DAY, b"\x01\x18" + b"\x00" * 7), (HOURLY, DAY, b"\x01\x05" + b"\x00" * 7 + b"\x04" + b"\x00" * 7),
    (HOURLY, DAY, b"\x01\x00\x01\x00\x00\x00\x00\x00\x09\x01\x01\x05\x01"),
    # A minimum above the maximum; a histogram that cannot be read; a number that never ends.
    (HOURLY, DAY, b"\x01\x00\x01\x00\x00\x00\x00\x00\x02\x09\x01\x05\x01"),
    (HOURLY, DAY, b"\x01\x00\x01\x00\x00\x00\x00\x00\x02\x01\x01\x05\x81"),
    (HOURLY, DAY, b"\x01\x00" + b"\xff" * 12),
])
def test_bytes_that_are_not_packed_tallies_are_refused(tier, start, data):
    with pytest.raises(CorruptBlock):
        blocks.unpack(tier, start, data)


def test_results_land_in_one_row_per_check_and_block(check):
    record_samples([Sample(check.id, HOUR + minute * 60, Status.OK, 1000, None, False) for minute in range(120)])
    db.session.commit()
    rows = dict(db.session.execute(select(TallyBlock.width, func.count()).group_by(TallyBlock.width)).all())
    # Two hours of 5-minute buckets, one day of hourly ones.
    assert rows == {300: 2, 3600: 1}
    assert [bucket for _, bucket, _ in read_tallies([check.id], HOURLY, DAY, DAY + 86400)] == [HOUR, HOUR + 3600]
    assert len(read_tallies([check.id], FIVE_MINUTES, HOUR, HOUR + 7200)) == 24


def test_a_corrupt_block_is_reported_and_skipped_by_readers_and_the_recorder(check, caplog):
    record_samples([Sample(check.id, HOUR + 5, Status.OK, 1000, None, False),
                    Sample(check.id, HOUR + 1805, Status.CRITICAL, None, None, False),
                    Sample(check.id, HOUR + 3605, Status.OK, 1000, None, False)])
    db.session.commit()
    db.session.execute(text("UPDATE history_blocks SET tallies = :data WHERE width = 3600"), {"data": b"\x01\x7f"})
    db.session.execute(text("UPDATE history_blocks SET tallies = :data WHERE width = 300 AND block_start = :start"),
                       {"data": b"\x01\x00\x01", "start": HOUR + 3600})
    db.session.commit()
    now = at("2026-03-01 11:30")
    with caplog.at_level(logging.WARNING, "ninerstatus.history"):
        assert read_tallies([check.id], HOURLY, DAY, DAY + 86400) == []
        assert sparklines([check.id], now)[check.id].total == Tally()
        # From 10:01 the 5-minute buckets of the readable hour count (the failure at 10:30), the hourly block
        # does not; from 11:01 nothing can be read.
        assert windows_uptime([check.id], [at("2026-03-01 10:01"), at("2026-03-01 11:01")], now) == [0.0, None]
        assert record_samples([Sample(check.id, HOUR + 65, Status.CRITICAL, None, None, False)]) == 1
    db.session.commit()
    assert db.session.scalar(select(TallyBlock.tallies).where(TallyBlock.width == 3600)) == b"\x01\x7f"
    assert stored_tally(check.id, 300, at("2026-03-01 10:00")).down == 1
    assert stored_tally(check.id, 86400, at("2026-03-01 00:00")).down == 2
    assert "hourly tallies of check" in caplog.text and "cannot be updated as stored" in caplog.text


def test_tallies_are_read_afresh_when_their_block_changes(check):
    # Unpacked blocks are remembered by their bytes: a block that takes a new result reads differently at once.
    record_samples([Sample(check.id, HOUR + 5, Status.OK, 1000, None, False)])
    db.session.commit()
    [(_, _, before)] = read_tallies([check.id], HOURLY, DAY, DAY + 86400)
    record_samples([Sample(check.id, HOUR + 65, Status.CRITICAL, None, None, False)])
    db.session.commit()
    [(_, _, after)] = read_tallies([check.id], HOURLY, DAY, DAY + 86400)
    assert (before.up, before.down) == (1, 0)
    assert (after.up, after.down) == (1, 1)


def test_a_corrupt_block_is_reported_each_time_it_is_read(check, caplog):
    record_samples([Sample(check.id, HOUR + 5, Status.OK, 1000, None, False)])
    db.session.commit()
    db.session.execute(text("UPDATE history_blocks SET tallies = :data WHERE width = 3600"), {"data": b"\x01\x7f"})
    db.session.commit()
    with caplog.at_level(logging.WARNING, "ninerstatus.history"):
        for _ in range(2):
            assert read_tallies([check.id], HOURLY, DAY, DAY + 86400) == []
    assert caplog.text.count(f"hourly tallies of check {check.id} in the block from {DAY} are left out") == 2
