"""Rollups of rollups equal rollups of raw results, exactly: counts, min, max, mean and p95."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from ninerstatus.extensions import db
from ninerstatus.history import histogram
from ninerstatus.history.raw import read_samples
from ninerstatus.history.recorder import record_result, record_samples
from ninerstatus.history.rollup import Sample, Tally
from ninerstatus.probing import Status

from .conftest import at, result, stored_tallies, stored_tally


def random_samples(seed: int, count: int, start: int = 1_772_000_000) -> list[Sample]:
    rng = random.Random(seed)
    return [Sample(1, start + index * 37, rng.choice(list(Status)),
                   rng.choice([None, rng.randint(0, 200), rng.randint(1000, 50_000), int(rng.lognormvariate(10, 2))]),
                   None, rng.random() < 0.1)
            for index in range(count)]


@pytest.mark.parametrize("seed", range(5))
def test_any_split_of_the_samples_adds_up_to_the_tally_of_all(seed):
    samples = random_samples(seed, 500)
    cuts = sorted(random.Random(seed).sample(range(1, 500), 7))
    parts = [samples[a:b] for a, b in zip([0, *cuts], [*cuts, 500])]
    whole = Tally.of_samples(samples)
    assert sum((Tally.of_samples(part) for part in parts), Tally()) == whole
    # Grouping the parts differently (rollups of rollups) changes nothing either.
    left = Tally.of_samples(samples[:cuts[3]])
    right = sum((Tally.of_samples(part) for part in parts[4:]), Tally())
    assert left + right == whole


@pytest.mark.parametrize("seed", range(5))
def test_two_tallies_added_are_their_total(seed):
    """``+`` (the recorder adds a result's tally to its bucket's) gives what ``Tally.total`` gives for the two."""
    samples = random_samples(seed, 40)
    tallies = [Tally(), Tally.of_samples(samples[:1]), Tally.of_samples(samples[:20]), Tally.of_samples(samples[20:]),
               Tally.of_samples([sample._replace(latency_us=None) for sample in samples])]
    for first in tallies:
        for second in tallies:
            assert first + second == Tally.total((first, second))
            assert histogram.merge(first.histogram, second.histogram) == \
                histogram.merge_all((first.histogram, second.histogram))


def test_the_p95_of_merged_rows_is_the_p95_of_all_results():
    fast = [Sample(1, n, Status.OK, 10_000, None, False) for n in range(95)]
    slow = [Sample(1, 100 + n, Status.OK, 900_000, None, False) for n in range(5)]
    merged = Tally.of_samples(fast[:50]) + Tally.of_samples(fast[50:] + slow)
    assert merged.latency_p95_us == histogram.BOUNDS_US[histogram.bucket_of(10_000)]
    assert (merged + Tally.of_samples([Sample(1, 200, Status.OK, 900_000, None, False)])).latency_p95_us == 900_000
    assert merged.latency_mean_us == (95 * 10_000 + 5 * 900_000) / 100
    assert (merged.latency_min_us, merged.latency_max_us) == (10_000, 900_000)


def test_p95_is_its_bucket_bound_but_never_above_the_slowest_result():
    tally = Tally.of_samples([Sample(1, 0, Status.OK, 10_001, None, False)])
    assert histogram.BOUNDS_US[histogram.bucket_of(10_001)] > 10_001
    assert tally.latency_p95_us == 10_001
    beyond = Tally.of_samples([Sample(1, 0, Status.OK, 10 ** 9, None, False)])
    assert histogram.bucket_of(10 ** 9) == histogram.OVERFLOW and beyond.latency_p95_us == 10 ** 9


def test_histogram_buckets_grow_by_a_fixed_ratio():
    ratios = [b / a for a, b in zip(histogram.BOUNDS_US[20:], histogram.BOUNDS_US[21:])]
    assert all(abs(ratio - 2 ** 0.25) < 0.01 for ratio in ratios)
    assert histogram.BOUNDS_US[0] == 100 and histogram.BOUNDS_US[-1] > 100_000_000


@pytest.mark.parametrize("counts", [{}, {0: 1}, {3: 127, 4: 128, 80: 16_384}, {81: 2 ** 40, 1: 5}])
def test_histograms_survive_encoding(counts):
    assert histogram.decode(histogram.encode(counts)) == counts


def test_a_histogram_of_three_small_buckets_takes_six_bytes():
    assert len(histogram.encode({10: 3, 20: 100, 30: 1})) == 6


def test_the_database_merges_histograms_exactly_as_python_does(ctx):
    rng = random.Random(7)
    for _ in range(30):
        first = {rng.randrange(82): rng.choice([1, 127, 128, 300_000]) for _ in range(rng.randrange(6))}
        second = {rng.randrange(82): rng.choice([1, 2, 129, 16_384]) for _ in range(rng.randrange(6))}
        a, b = histogram.encode(first), histogram.encode(second)
        merged = db.session.scalar(text("SELECT history_histogram_merge(:a, :b)"), {"a": a, "b": b})
        assert bytes(merged) == histogram.merge(a, b)


def test_stored_rollups_of_every_tier_equal_the_tally_of_the_raw_results(check):
    samples = [Sample(check.id, sample.checked_at, sample.status, sample.latency_us, None, sample.in_maintenance)
               for sample in random_samples(11, 3000, start=int(at("2026-03-01 21:13").timestamp()))]
    # Half one by one as the runner writes them, half in batches as an import would.
    for sample in samples[:1500]:
        record_samples([sample])
    for start in range(1500, 3000, 400):
        record_samples(samples[start:start + 400])
    db.session.commit()
    raw = Tally.of_samples(read_samples())
    assert raw == Tally.of_samples(samples)
    for width in (300, 3600, 86400):
        assert Tally.total(tally for _, _, tally in stored_tallies(width)) == raw, width
    day_start, day_end = int(at("2026-03-02 00:00").timestamp()), int(at("2026-03-03 00:00").timestamp())
    hours = [tally for _, start, tally in stored_tallies(3600) if day_start <= start < day_end]
    day = stored_tally(check.id, 86400, at("2026-03-02 00:00"))
    assert len(hours) == 24 and Tally.total(hours) == day
    assert day.latency_p95_us == Tally.of_samples(
        s for s in samples if at("2026-03-02 00:00").timestamp() <= s.checked_at < at("2026-03-03 00:00").timestamp()
    ).latency_p95_us


def test_response_times_of_failures_and_maintenance_are_left_out(check):
    start = at("2026-03-01 10:00")
    record_result(check, result(Status.OK, start, 10.0), in_maintenance=False)
    record_result(check, result(Status.CRITICAL, start + timedelta(minutes=1), 10_000.0), in_maintenance=False)
    record_result(check, result(Status.OK, start + timedelta(minutes=2), 5_000.0), in_maintenance=True)
    db.session.commit()
    [(_, _, tally)] = stored_tallies(300)
    assert (tally.latency_count, tally.latency_max_us, tally.results) == (1, 10_000, 3)
