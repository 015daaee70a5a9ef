"""Reading raw results back from their packed rows (one per check and hour, see packing.py).

Every reader of raw results goes through here, so a row that cannot be
unpacked is reported (logged) and skipped in one place: a page or the runner
then goes on with the rows that can be read.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from functools import lru_cache

from sqlalchemy import ColumnElement, Select, func, select

from ..extensions import db
from ..probing import Status
from .models import RawResults
from .packing import HOUR, CorruptPack, unpack
from .rollup import Sample

log = logging.getLogger(__name__)

#: Hours of results each process remembers unpacking (see ``unpack_rows``): a few edges for every check.
ROWS_KEPT = 1024


@lru_cache(maxsize=ROWS_KEPT)
def _unpack_kept(check_id: int, start: int, data: bytes) -> tuple[Sample, ...]:
    """``unpack``, remembering what the same bytes of the same hour gave.

    The edges of a page's uptime windows fall in hours that are over, whose
    rows no longer change, so most reads find them unpacked (and checked: a
    row that raises is never kept). The rows themselves are read afresh every
    time; different bytes are unpacked anew.
    """
    return tuple(unpack(check_id, start, data))


def read_samples(check_ids: Sequence[int] | None = None, start: int | None = None,
                 end: int | None = None) -> list[Sample]:
    """The raw results of some checks (of all without ``check_ids``) from ``start`` up to ``end`` (epoch seconds).

    Ordered by check, then time.
    """
    query = select(RawResults.check_id, RawResults.hour_start, RawResults.results).order_by(
        RawResults.check_id, RawResults.hour_start)
    if check_ids is not None:
        query = query.where(RawResults.check_id.in_(check_ids))
    if start is not None:
        query = query.where(RawResults.hour_start > start - HOUR)
    if end is not None:
        query = query.where(RawResults.hour_start < end)
    return [sample for sample in unpack_rows(db.session.execute(query))
            if (start is None or sample.checked_at >= start) and (end is None or sample.checked_at < end)]


def unpack_rows(rows: Iterable[tuple[int, int, bytes]]) -> list[Sample]:
    """The samples of some (check_id, hour_start, results) rows; a row that cannot be unpacked is logged and skipped."""
    samples: list[Sample] = []
    for check_id, start, data in rows:
        try:
            samples.extend(_unpack_kept(check_id, start, bytes(data)))
        except CorruptPack as error:
            log.warning("raw results of check %s in the hour from %s are left out: %s", check_id, start, error)
    return samples


def covering(check_ids: Sequence[int], start: int, end: int) -> Select:
    """SQL: the (check_id, hour_start, results) packed rows of some checks that hold results from ``start`` to ``end``."""
    return select(RawResults.check_id, RawResults.hour_start, RawResults.results).where(
        RawResults.check_id.in_(check_ids), RawResults.hour_start > start - HOUR, RawResults.hour_start < end)


def count_statuses(rows: Iterable[tuple[int, int, bytes]], start: int, end: int) -> tuple[int, int, int]:
    """The up, degraded and down results from ``start`` up to ``end`` in some packed rows.

    Counted as Tally.of_samples counts: results in maintenance windows first,
    then by status.
    """
    # Indexed by Status value: OK, WARNING, CRITICAL, UNKNOWN.
    counts = [0, 0, 0, 0]
    for sample in unpack_rows(rows):
        if start <= sample.checked_at < end and not sample.in_maintenance:
            counts[sample.status] += 1
    return counts[Status.OK], counts[Status.WARNING], counts[Status.CRITICAL]


def first_row_columns(check_id: ColumnElement[int]) -> list:
    """Scalar subqueries of a check's earliest packed row: its hour, then its results (see ``first_second``)."""
    earliest = select(RawResults.hour_start, RawResults.results).where(
        RawResults.check_id == check_id).order_by(RawResults.hour_start).limit(1)
    return [select(func.min(RawResults.hour_start)).where(RawResults.check_id == check_id).scalar_subquery(),
            earliest.with_only_columns(RawResults.results).scalar_subquery()]


def first_second(check_id: int, start: int | None, data: bytes | None) -> int | None:
    """The epoch second of the first result in a check's earliest packed row; None without a readable one."""
    if start is None or data is None:
        return None
    samples = unpack_rows([(check_id, start, data)])
    return samples[0].checked_at if samples else None
