"""Writing history: each result as a raw row and into the current bucket of every tier.

The runner calls ``record_result`` once per probe result; imports and the
benchmark call ``record_samples`` with many at once. Both go through the same
two statements:

1. insert the raw rows, skipping any already there (same check, same second),
   and get back the ones that were new, so a retried write never counts twice;
2. one upsert for all tiers that adds each new tally to its bucket row
   (``ON CONFLICT ... DO UPDATE`` on both PostgreSQL and SQLite): counts and
   sums add up, minimum and maximum compare, histograms merge in the database.

Nothing here commits: the caller's transaction holds the result and its history
together.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from functools import cache

from sqlalchemy import LargeBinary, func
from sqlalchemy.dialects import postgresql, sqlite

from ..checks.models import Check
from ..extensions import db
from ..probing import ProbeResult
from .models import HistoryResult, HistoryRollup
from .rollup import Sample, Tally
from .sqlfunctions import MERGE_FUNCTION
from .tiers import TIERS

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def record_result(check: Check, result: ProbeResult, *, in_maintenance: bool) -> None:
    """Add ``result`` of ``check`` to history (in the caller's transaction; no commit)."""
    record_samples([Sample.of(check.id, result, in_maintenance=in_maintenance)])


def record_samples(samples: Iterable[Sample]) -> int:
    """Add many results to history (no commit); return how many were new."""
    samples = list(samples)
    rows = [{"check_id": s.check_id, "checked_at": s.checked_at, "status": int(s.status),
             "latency_us": s.latency_us, "error_kind": s.error_kind, "in_maintenance": s.in_maintenance}
            for s in samples]
    if not rows:
        return 0
    statements = _statements(db.session.get_bind().dialect.name)
    inserted = {tuple(row) for row in db.session.execute(statements.raw_insert, rows)}
    new = [s for s in samples if (s.check_id, s.checked_at) in inserted]
    if new:
        db.session.execute(statements.rollup_upsert, rollup_rows(new))
    return len(new)


def rollup_rows(samples: Iterable[Sample]) -> list[dict]:
    """One row per tier bucket the samples fall in, holding the tally of its samples."""
    buckets: dict[tuple[int, int, int], list[Sample]] = defaultdict(list)
    for sample in samples:
        for tier in TIERS:
            buckets[sample.check_id, tier.width, tier.bucket_start(sample.checked_at)].append(sample)
    return [{"check_id": check_id, "width": width, "bucket_start": start, **tally_row(Tally.of_samples(group))}
            for (check_id, width, start), group in buckets.items()]


def tally_row(tally: Tally) -> dict:
    """The rollup columns of ``tally``."""
    return {"up": tally.up, "degraded": tally.degraded, "down": tally.down, "unknown": tally.unknown,
            "maintenance": tally.maintenance, "latency_min_us": tally.latency_min_us,
            "latency_max_us": tally.latency_max_us, "latency_sum_us": tally.latency_sum_us,
            "histogram": tally.histogram}


class _Statements:
    """The two write statements in one dialect, built once."""

    def __init__(self, dialect: str) -> None:
        insert = _INSERTS[dialect]
        results = HistoryResult.__table__
        self.raw_insert = (insert(results).on_conflict_do_nothing(index_elements=[results.c.check_id, results.c.checked_at])
                           .returning(results.c.check_id, results.c.checked_at))
        rollups = HistoryRollup.__table__
        upsert = insert(rollups)
        new = upsert.excluded
        # SQLite's two-argument min() and max() are PostgreSQL's least() and greatest().
        least, greatest = (func.least, func.greatest) if dialect == "postgresql" else (func.min, func.max)

        def either(stored, added):
            # NULL means "no response time yet" and must not win the comparison.
            return func.coalesce(stored, added), func.coalesce(added, stored)

        self.rollup_upsert = upsert.on_conflict_do_update(
            index_elements=[rollups.c.check_id, rollups.c.width, rollups.c.bucket_start],
            set_={
                **{name: rollups.c[name] + new[name]
                   for name in ("up", "degraded", "down", "unknown", "maintenance", "latency_sum_us")},
                "latency_min_us": least(*either(rollups.c.latency_min_us, new.latency_min_us)),
                "latency_max_us": greatest(*either(rollups.c.latency_max_us, new.latency_max_us)),
                "histogram": getattr(func, MERGE_FUNCTION)(rollups.c.histogram, new.histogram,
                                                           type_=LargeBinary),
            })


@cache
def _statements(dialect: str) -> _Statements:
    return _Statements(dialect)
