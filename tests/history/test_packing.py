"""Raw results packed one row per check and hour: written and read back exactly, and bad rows skipped."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from ninerstatus.extensions import db
from ninerstatus.history import packing
from ninerstatus.history.models import RawResults
from ninerstatus.history.packing import CorruptPack, pack, unpack
from ninerstatus.history.raw import read_samples
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.rollup import MAX_LATENCY_US, Sample, Tally
from ninerstatus.history.uptime import first_results, windows_uptime
from ninerstatus.probing import ErrorKind, Status

from ..factories import make_server
from .conftest import add_check, at, stored_tally

HOUR = int(at("2026-03-01 10:00").timestamp())


def samples_of(check_id: int) -> list[Sample]:
    """One of every kind of result in one hour: each status, maintenance, errors known and not, extreme times."""
    return [Sample(check_id, HOUR, Status.OK, 0, None, False),
            Sample(check_id, HOUR + 1, Status.WARNING, 127, None, True),
            Sample(check_id, HOUR + 60, Status.CRITICAL, None, "connect_refused", False),
            Sample(check_id, HOUR + 61, Status.UNKNOWN, None, None, True),
            Sample(check_id, HOUR + 62, Status.CRITICAL, 128, "a-plugin's own kind é", False),
            Sample(check_id, HOUR + 3599, Status.OK, MAX_LATENCY_US, "internal", False)]


def test_every_kind_of_result_packs_and_unpacks_to_itself():
    samples = samples_of(7)
    assert unpack(7, HOUR, pack(samples)) == samples


def test_a_result_every_minute_takes_a_few_bytes():
    samples = [Sample(1, HOUR + minute * 60, Status.OK, 20_000, None, False) for minute in range(60)]
    assert len(pack(samples)) == 1 + 60 * 6


def test_every_error_kind_of_the_probes_has_its_own_code():
    assert {kind.value for kind in ErrorKind} <= set(packing.ERROR_KINDS)


@pytest.mark.parametrize("samples", [
    [Sample(1, HOUR + 5, Status.OK, 1, None, False), Sample(1, HOUR + 5, Status.OK, 1, None, False)],
    [Sample(1, HOUR + 5, Status.OK, 1, None, False), Sample(1, HOUR + 4, Status.OK, 1, None, False)],
    [Sample(1, HOUR + 5, Status.OK, 1, None, False), Sample(1, HOUR + 3600, Status.OK, 1, None, False)],
    [Sample(1, HOUR, Status.OK, -1, None, False)],
    [Sample(1, HOUR, Status.OK, MAX_LATENCY_US + 1, None, False)],
])
def test_packing_refuses_what_it_could_not_read_back(samples):
    with pytest.raises(ValueError):
        pack(samples)


GOOD = pack(samples_of(1))


@pytest.mark.parametrize("data, start", [
    (b"", HOUR), (b"\x02" + GOOD[1:], HOUR), (GOOD, HOUR + 1), (GOOD[:-1], HOUR), (GOOD[:4], HOUR),
    # A second past the hour; a second before the one ahead of it; flags no release writes.
    (b"\x01\x00\x10\x0e", HOUR), (b"\x01\x00\x05\x00\x00\x04\x00", HOUR), (b"\x01\x40\x05\x00", HOUR),
    # An error kind code not listed; a response time past the largest one; a varint that never ends.
    (b"\x01\x12\xf0\x00\x00", HOUR), (b"\x01\x08\xff\xff\xff\xff\x0f\x00\x00", HOUR),
    (b"\x01\x08" + b"\xff" * 9, HOUR),
    # A spelled-out error kind cut short, or not UTF-8; a second cut short.
    (b"\x01\x12\xff\x05ab", HOUR), (b"\x01\x12\xff\x01\xff\x00\x00", HOUR), (b"\x01\x00\x05", HOUR),
])
def test_bytes_that_are_not_packed_results_are_refused(data, start):
    with pytest.raises(CorruptPack):
        unpack(1, start, data)


def test_results_read_back_exactly_in_time_order_whatever_the_order_they_arrived_in(check):
    samples = samples_of(check.id)
    later_hour = Sample(check.id, HOUR + 3600 + 30, Status.OK, 5, None, False)
    # Out of order, across two calls and two hours, the last one a retry of results already stored.
    assert record_samples([samples[3], later_hour, samples[0]]) == 3
    assert record_samples([samples[5], samples[1], samples[1], samples[4], samples[2]]) == 4
    assert record_samples([samples[2], later_hour]) == 0
    # Newer than all its hour holds, as the runner's results are: appended to the row.
    newest = Sample(check.id, later_hour.checked_at + 1, Status.WARNING, 7, "read_timeout", True)
    assert record_samples([newest]) == 1
    db.session.commit()
    assert read_samples([check.id]) == samples + [later_hour, newest]
    assert read_samples([check.id], HOUR + 1, HOUR + 3600) == samples[1:]
    assert db.session.scalar(select(func.count()).select_from(RawResults)) == 2
    # The rollups count each result once, as if they had come in order.
    assert stored_tally(check.id, 86400, at("2026-03-01 00:00")) == Tally.of_samples(samples + [later_hour, newest])


def spoil(check_id: int, start: int, data: bytes) -> None:
    db.session.execute(text("UPDATE history_raw SET results = :data WHERE check_id = :check AND hour_start = :start"),
                       {"data": data, "check": check_id, "start": start})
    db.session.commit()


def test_a_corrupt_packed_row_is_reported_and_skipped_by_every_reader(ctx, caplog):
    server = make_server("NC036")
    spoiled, other = add_check(server, "SMTP"), add_check(server, "IMAP")
    record_samples([Sample(spoiled.id, HOUR + 5, Status.CRITICAL, None, None, False),
                    Sample(spoiled.id, HOUR + 3600, Status.OK, 10, None, False),
                    Sample(other.id, HOUR + 7, Status.OK, 10, None, False)])
    db.session.commit()
    spoil(spoiled.id, HOUR, b"\x01\x05")
    with caplog.at_level(logging.WARNING, "ninerstatus.history.raw"):
        assert read_samples() == [Sample(spoiled.id, HOUR + 3600, Status.OK, 10, None, False),
                                  Sample(other.id, HOUR + 7, Status.OK, 10, None, False)]
        # The first result is then the first one that can be read; a window's raw edge counts the readable ones.
        now = at("2026-03-01 11:30")
        assert first_results([spoiled.id, other.id], now) == {spoiled.id: HOUR, other.id: HOUR + 7}
        assert windows_uptime([spoiled.id], [at("2026-03-01 10:00:02")], now) == [1.0]
    assert f"raw results of check {spoiled.id} in the hour from {HOUR} are left out" in caplog.text


def test_the_recorder_leaves_a_corrupt_row_as_it_is_and_still_counts_new_results(check, caplog):
    record_samples([Sample(check.id, HOUR + 5, Status.OK, 10, None, False)])
    db.session.commit()
    spoil(check.id, HOUR, b"\x01garbage")
    with caplog.at_level(logging.WARNING, "ninerstatus.history.recorder"):
        assert record_samples([Sample(check.id, HOUR + 65, Status.CRITICAL, None, None, False)]) == 1
    db.session.commit()
    assert db.session.scalar(select(RawResults.results)) == b"\x01garbage"
    assert stored_tally(check.id, 300, at("2026-03-01 10:00")).down == 1
    assert "cannot be read" in caplog.text


def test_raw_results_are_read_afresh_when_their_hour_takes_more(check):
    # Unpacked hours are remembered by their bytes: the hour being written reads its newest result at once.
    record_samples([Sample(check.id, HOUR + 5, Status.OK, 10, None, False)])
    db.session.commit()
    assert len(read_samples([check.id])) == 1
    record_samples([Sample(check.id, HOUR + 65, Status.CRITICAL, None, None, False)])
    db.session.commit()
    assert [sample.status for sample in read_samples([check.id])] == [Status.OK, Status.CRITICAL]


def test_a_corrupt_packed_row_is_reported_each_time_it_is_read(check, caplog):
    record_samples([Sample(check.id, HOUR + 5, Status.OK, 10, None, False)])
    db.session.commit()
    spoil(check.id, HOUR, b"\x01\x05")
    with caplog.at_level(logging.WARNING, "ninerstatus.history.raw"):
        for _ in range(2):
            assert read_samples([check.id]) == []
    assert caplog.text.count(f"raw results of check {check.id} in the hour from {HOUR} are left out") == 2
