"""The bars of days already over, summed once per worker: whatever changes them is seen on the next page."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from flask import current_app
from flask_migrate import downgrade
from sqlalchemy import inspect

from ninerstatus.extensions import db
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.retention import prune_batch
from ninerstatus.history.revision import current_revision
from ninerstatus.history.rollup import Sample, epoch_seconds
from ninerstatus.history.uptime import daily_bars_by_server
from ninerstatus.models import Visibility
from ninerstatus.probing import Status

from ..conftest import dispose, make_test_app, migrate_to
from ..factories import make_server
from .conftest import add_check, at

NOW = at("2026-03-10 12:02:30")
YESTERDAY_NOON = epoch_seconds(at("2026-03-09 12:00"))


def write_days(check, days: int) -> None:
    """One good result an hour for ``days`` days up to NOW, recorded as they came in (none late)."""
    end = epoch_seconds(NOW)
    for moment in range(end - days * 86400, end, 3600):
        record_samples([Sample(check.id, moment, Status.OK, 20_000, None, False)],
                       now=datetime.fromtimestamp(moment, timezone.utc))
    db.session.commit()


@pytest.fixture
def server_check(ctx):
    server = make_server("NC036")
    check = add_check(server)
    write_days(check, 5)
    return server, check


def yesterday(server_id: int):
    return daily_bars_by_server(NOW).get(server_id, [None, None])[-2]


def test_a_late_result_for_a_day_over_shows_on_the_next_page(server_check):
    server, check = server_check
    assert yesterday(server.id).down == 0
    revision = current_revision()
    # An agent's batch kept while the site was out of reach: yesterday's result, recorded today.
    record_samples([Sample(check.id, YESTERDAY_NOON + 1, Status.CRITICAL, None, None, False)], now=NOW)
    db.session.commit()
    assert current_revision() == revision + 1
    assert yesterday(server.id).down == 1


def test_results_of_today_leave_the_days_over_as_they_are(server_check):
    server, check = server_check
    before = daily_bars_by_server(NOW)[server.id]
    revision = current_revision()
    record_samples([Sample(check.id, epoch_seconds(NOW) - 5, Status.CRITICAL, None, None, False)], now=NOW)
    db.session.commit()
    assert current_revision() == revision
    after = daily_bars_by_server(NOW)[server.id]
    assert after[:-1] == before[:-1] and after[-1].down == before[-1].down + 1


def test_a_result_in_the_last_minutes_of_a_day_counts_as_late(server_check):
    # A worker whose clock runs a little ahead may already count today as over.
    _, check = server_check
    revision = current_revision()
    record_samples([Sample(check.id, epoch_seconds(at("2026-03-10 23:55")), Status.OK, None, None, False)],
                   now=at("2026-03-10 23:55:02"))
    db.session.commit()
    assert current_revision() == revision + 1


def hide(server, check):
    check.visibility = Visibility.INTERNAL


def switch_off(server, check):
    check.enabled = False


def move(server, check):
    check.server = make_server("NC037")


def make_internal(server, check):
    server.visibility = Visibility.INTERNAL


def delete(server, check):
    db.session.delete(check)


@pytest.mark.parametrize("change", [hide, switch_off, move, make_internal, delete])
def test_staff_changing_which_checks_count_show_on_the_next_page(server_check, change):
    server, check = server_check
    assert yesterday(server.id).up == 24
    change(server, check)
    db.session.commit()
    assert daily_bars_by_server(NOW).get(server.id) is None


def test_a_moved_check_takes_its_days_over_to_its_new_server(server_check):
    server, check = server_check
    daily_bars_by_server(NOW)
    other = make_server("NC037")
    check.server = other
    db.session.commit()
    assert yesterday(other.id).up == 24


def test_other_changes_leave_the_revision_alone(server_check):
    server, check = server_check
    revision = current_revision()
    check.label = "SMTP submission"
    server.city = "Leeds"
    db.session.commit()
    assert current_revision() == revision


def test_retention_deleting_daily_rows_shows_on_the_next_page(server_check):
    server, _ = server_check
    assert daily_bars_by_server(NOW)[server.id][-5].up > 0
    current_app.config["HISTORY_DAILY_DAYS"] = 2
    while prune_batch(NOW):
        db.session.commit()
    db.session.commit()
    bars = daily_bars_by_server(NOW)[server.id]
    assert bars[-5].uptime is None and bars[-1].up > 0


def test_a_missing_revision_row_is_written_again_by_the_next_change(server_check):
    server, check = server_check
    db.session.execute(db.text("DELETE FROM history_revision"))
    db.session.commit()
    assert current_revision() == 0
    assert yesterday(server.id).up == 24
    check.enabled = False
    db.session.commit()
    assert current_revision() == 1
    assert daily_bars_by_server(NOW).get(server.id) is None


def test_many_threads_read_the_same_bars_while_the_kept_spans_come_and_go(server_check, app):
    server, _ = server_check
    spans = (7, 14, 30, 60, 90, 3)  # more than are kept: threads replace each other's
    expected = {days: daily_bars_by_server(NOW, days) for days in spans}
    failures = []

    def read(offset: int) -> None:
        with app.app_context():
            for turn in range(30):
                days = spans[(offset + turn) % len(spans)]
                found = daily_bars_by_server(NOW, days)
                if found != expected[days]:
                    failures.append((days, found))
            db.session.remove()

    threads = [threading.Thread(target=read, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert expected[90][server.id][-2].up == 24


def test_the_migration_starts_the_revision_and_its_downgrade_drops_it(backend, fresh_database_url, tmp_path):
    app = make_test_app(fresh_database_url(backend), tmp_path)
    try:
        migrate_to(app, "0019")
        with app.app_context():
            assert current_revision() == 1
        with app.app_context():
            downgrade(revision="0018")
            assert "history_revision" not in inspect(db.engine).get_table_names()
    finally:
        dispose(app)
