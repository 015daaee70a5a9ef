"""The one SQL function history needs: adding two encoded latency histograms.

Upserts of daily rows merge a new histogram into a stored one inside the
database, in the same statement that adds the counts, so concurrent writers never lose a
sample. On PostgreSQL the function is created by migration 0006 (in
PL/pgSQL); on SQLite this module registers the Python ``histogram.merge`` on
every connection.
"""
from __future__ import annotations

from . import histogram

MERGE_FUNCTION = "history_histogram_merge"


def install_sqlite_functions(dbapi_connection, _record=None) -> None:
    """Connect listener: register the histogram merge on a new SQLite connection."""
    dbapi_connection.create_function(MERGE_FUNCTION, 2, histogram.merge, deterministic=True)
