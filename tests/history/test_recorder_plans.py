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
