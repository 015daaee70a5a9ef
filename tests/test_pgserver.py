"""The PostgreSQL leg never skips: without a server, the tests start their own."""
from __future__ import annotations

import psycopg

from .pgserver import create_database, drop_database, throwaway_cluster


def test_a_throwaway_cluster_starts_serves_and_goes_away():
    with throwaway_cluster() as admin_url:
        url = create_database(admin_url, "ninerstatus_probe_db")
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            assert conn.execute("select 1 + 1").fetchone() == (2,)
        drop_database(admin_url, "ninerstatus_probe_db")
    try:
        psycopg.connect(admin_url, connect_timeout=2).close()
    except psycopg.OperationalError:
        pass
    else:
        raise AssertionError("the throwaway cluster is still running after the block")
