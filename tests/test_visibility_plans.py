"""Visitors' pages decide which posts are visible, and which incidents open, from indexes alone.

On a site with a thousand posts, reading each post's row to check its status
cost the home page a few milliseconds per statement (the count of posts, the
tag cloud, the open incidents behind the summary and the incident floors, the
maintenance windows). SQLite's own plan for each statement must find posts in
``ix_posts_visible`` and each incident's newest update in
``ix_post_updates_latest``, never scanning either table or sorting updates.
"""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.dialects import sqlite

from ninerstatus.incident_floors import _open_incidents_query
from ninerstatus.public.listed_posts import visible_post_rows
from ninerstatus.public.pagination import Listing
from ninerstatus.public.sidebar import _cloud_query
from ninerstatus.site_status import _open_windows_query

STATEMENTS = {
    "count of visible posts": lambda: Listing.of(visible_post_rows(None)).count,
    "tag cloud": _cloud_query,
    "open incidents": _open_incidents_query,
    "open maintenance windows": _open_windows_query,
}
#: Statements that only count or group posts: the index alone answers them.
INDEX_ONLY = {"count of visible posts", "tag cloud"}
#: Statements asking whether an incident is open (its newest update's state).
ASK_LATEST_UPDATE = {"open incidents"}


def plan_of(path, statement) -> list[str]:
    compiled = statement.compile(dialect=sqlite.dialect())
    connection = sqlite3.connect(path)
    try:
        return [step[3] for step in connection.execute(f"EXPLAIN QUERY PLAN {compiled}",
                                                         [None] * len(compiled.positiontup))]
    finally:
        connection.close()


@pytest.mark.parametrize("name", list(STATEMENTS))
def test_visibility_is_read_from_the_index(migrated_sqlite, name):
    plan = plan_of(migrated_sqlite, STATEMENTS[name]())
    posts = [step for step in plan if " posts " in f"{step} "]
    assert posts and all("INDEX ix_posts_visible" in step for step in posts), plan
    if name in INDEX_ONLY:
        assert all("COVERING INDEX ix_posts_visible" in step for step in posts), plan


@pytest.mark.parametrize("name", sorted(ASK_LATEST_UPDATE))
def test_the_newest_update_is_one_step_in_its_index(migrated_sqlite, name):
    plan = plan_of(migrated_sqlite, STATEMENTS[name]())
    updates = [step for step in plan if "post_updates" in step]
    # The newest update's text is read from its row, for open incidents only; every other step is the index's.
    assert updates and all("INDEX ix_post_updates_latest (post_id=?)" in step for step in updates), plan
    assert sum("COVERING INDEX ix_post_updates_latest (post_id=?)" in step for step in updates) >= 2, plan
    assert not [step for step in plan if "TEMP B-TREE FOR ORDER BY" in step and "post_updates" in step], plan
