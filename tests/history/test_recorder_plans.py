"""The recorder finds the stored packed rows it adds to by their keys: SQLite never reads a whole history table."""
from __future__ import annotations

import sqlite3

import pytest

from ninerstatus.history import located, recorder

PACKED = {"raw": recorder._RAW, "blocks": recorder._BLOCKS, "located raw": located._RAW}


@pytest.mark.parametrize("packed", list(PACKED.values()), ids=list(PACKED))
def test_the_stored_rows_of_a_batch_are_searched_by_key_not_scanned(migrated_sqlite, packed):
    connection = sqlite3.connect(migrated_sqlite)
    try:
        statement = recorder.stored_rows_statement("sqlite", packed, 3)
        plan = [step[3] for step in connection.execute(f"EXPLAIN QUERY PLAN {statement}",
                                                         [1] * statement.count("?"))]
    finally:
        connection.close()
    assert f"SEARCH stored USING PRIMARY KEY ({'=? AND '.join(packed.key)}=?)" in plan, plan
    assert not [step for step in plan if step.startswith("SCAN stored")], plan


class _Cursor:
    """A DB-API cursor that stores nothing: every row looked up is missing, every row inserted goes in."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []
        self._rows: list[tuple] = []

    def execute(self, statement: str, parameters: tuple) -> None:
        self.sent.append((statement, len(parameters)))
        if statement.startswith("INSERT"):
            width = statement.split("(", 2)[1].count(",") + 1
            self._rows = [parameters[index:index + width - 1] for index in range(0, len(parameters), width)]
        else:
            self._rows = []

    def fetchall(self) -> list[tuple]:
        return self._rows


def _statements_of_a_batch(size: int) -> list[tuple[str, int]]:
    cursor = _Cursor()
    arrivals = {(check_id, 3600): {7200: f"result of {check_id}"} for check_id in range(size)}
    taken = recorder._merge_packed(cursor, "sqlite", recorder._RAW, arrivals,
                                   lambda key, stored, arrived: (b"packed", list(arrived.values())))
    assert sorted(taken) == sorted(f"result of {check_id}" for check_id in range(size))
    return cursor.sent


def test_batches_of_near_sizes_send_the_same_statements():
    # A statement per batch size would be parsed anew nearly every time and crowd the driver's cache.
    assert _statements_of_a_batch(9) == _statements_of_a_batch(14) == _statements_of_a_batch(16)
    assert _statements_of_a_batch(17) != _statements_of_a_batch(16)
    assert len({statement for size in range(1, 501) for statement, _ in _statements_of_a_batch(size)}) == \
        2 * len(recorder.STATEMENT_SIZES)


def test_a_batch_is_padded_with_its_last_row_up_to_the_next_size():
    assert recorder.padded([]) == []
    assert recorder.padded([1, 2, 3]) == [1, 2, 3] + [3] * 5
    assert recorder.padded(list(range(8))) == list(range(8))
    assert recorder.padded(list(range(100))) == list(range(100)) + [99] * 28
    assert recorder.padded(list(range(501))) == list(range(501))
