"""Uptime over 24 h, 7 d, 30 d and 90 d: what counts, what never counts, and which tiers answer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from ninerstatus.extensions import db
from ninerstatus.history.recorder import record_result, record_samples
from ninerstatus.history.rollup import Sample
from ninerstatus.history.tiers import DAILY
from ninerstatus.history.uptime import Stretch, check_uptime, plan_window, server_uptime, windows_uptime
from ninerstatus.models import Visibility
from ninerstatus.probing import Status

from ..factories import make_server
from .conftest import add_check, at, ratios, result

NOW = at("2026-03-10 12:02:30")
RETENTION = {"HISTORY_RAW_DAYS": 7, "HISTORY_5MIN_DAYS": 30, "HISTORY_HOURLY_DAYS": 396, "HISTORY_DAILY_DAYS": None}


def epoch(text: str) -> int:
    return int(at(text).timestamp())


def test_a_window_reads_raw_then_5_minute_then_hourly_then_daily_rows():
    assert plan_window(epoch("2026-03-09 12:02:30"), NOW, RETENTION) == [
        Stretch(None, epoch("2026-03-09 12:02:30"), epoch("2026-03-09 12:05")),
        Stretch(300, epoch("2026-03-09 12:05"), epoch("2026-03-09 13:00")),
        Stretch(3600, epoch("2026-03-09 13:00"), epoch("2026-03-10 00:00")),
        Stretch(DAILY.width, epoch("2026-03-10 00:00"), epoch("2026-03-11 00:00")),
    ]


def test_a_window_starting_on_a_whole_hour_needs_no_finer_tier():
    assert plan_window(epoch("2026-03-09 13:00"), NOW, RETENTION) == [
        Stretch(3600, epoch("2026-03-09 13:00"), epoch("2026-03-10 00:00")),
        Stretch(DAILY.width, epoch("2026-03-10 00:00"), epoch("2026-03-11 00:00")),
    ]


def test_where_finer_tiers_have_forgotten_the_edge_the_hour_holding_it_stands_in():
    start = epoch("2025-12-10 12:02:30")
    assert plan_window(start, NOW, RETENTION) == [
        Stretch(3600, epoch("2025-12-10 12:00"), epoch("2025-12-11 00:00")),
        Stretch(DAILY.width, epoch("2025-12-11 00:00"), epoch("2026-03-11 00:00")),
    ]


def write(check, *statuses: Status, start=NOW - timedelta(hours=1), in_maintenance=False) -> None:
    for minute, status in enumerate(statuses):
        record_result(check, result(status, start + timedelta(minutes=minute)), in_maintenance=in_maintenance)
    db.session.commit()


def test_uptime_is_up_over_up_degraded_and_down(check):
    write(check, Status.OK, Status.OK, Status.OK, Status.WARNING)
    assert check_uptime(check, NOW)["24h"] == 0.75


def test_results_in_maintenance_never_count(check):
    write(check, *[Status.OK] * 10)
    write(check, *[Status.CRITICAL] * 5, start=NOW - timedelta(minutes=30), in_maintenance=True)
    assert check_uptime(check, NOW)["24h"] == 1.0


def test_unknown_is_never_downtime(check):
    write(check, *[Status.OK] * 9, Status.CRITICAL, *[Status.UNKNOWN] * 40)
    assert check_uptime(check, NOW)["24h"] == 0.9


@pytest.mark.parametrize("statuses, in_maintenance", [((), False), ((Status.UNKNOWN,) * 3, False),
                                                      ((Status.CRITICAL,) * 3, True)])
def test_nothing_measured_is_no_data_not_a_figure(check, statuses, in_maintenance):
    write(check, *statuses, in_maintenance=in_maintenance)
    assert ratios(check_uptime(check, NOW)) == {"24h": None, "7d": None, "30d": None, "90d": None}


def test_each_window_sees_only_its_own_days(check):
    write(check, *[Status.OK] * 3)
    write(check, Status.CRITICAL, start=NOW - timedelta(days=3))
    write(check, Status.CRITICAL, Status.CRITICAL, start=NOW - timedelta(days=20))
    write(check, Status.CRITICAL, Status.CRITICAL, Status.CRITICAL, start=NOW - timedelta(days=60))
    write(check, *[Status.CRITICAL] * 10, start=NOW - timedelta(days=100))
    assert ratios(check_uptime(check, NOW)) == {"24h": 1.0, "7d": 3 / 4, "30d": 3 / 6, "90d": 3 / 9}


def test_the_far_edge_of_a_recent_window_is_exact_to_the_second(check):
    # Yesterday 12:02:29 is outside the 24 hours that end at 12:02:30 today; 12:02:30 is inside.
    record_samples([Sample(check.id, epoch("2026-03-09 12:02:29"), Status.CRITICAL, None, None, False),
                    Sample(check.id, epoch("2026-03-09 12:02:30"), Status.OK, 1000, None, False)])
    db.session.commit()
    assert check_uptime(check, NOW)["24h"] == 1.0
    assert windows_uptime([check.id], [NOW - timedelta(hours=24, seconds=1)], NOW) == [0.5]


def test_a_90_day_window_starts_with_the_hourly_rows_of_its_first_hour(check):
    # The window starts at 12:02:30; raw and 5-minute rows of that time have expired,
    # so the whole hour from 12:00 counts, 12:01 included.
    write(check, Status.CRITICAL, start=at("2025-12-10 12:01"))
    write(check, Status.OK, start=at("2025-12-10 13:30"))
    write(check, Status.CRITICAL, start=at("2025-12-10 11:59"))
    db.session.execute(db.text("DELETE FROM history_raw"))
    db.session.execute(db.text("DELETE FROM history_blocks WHERE width = 300"))
    db.session.execute(db.text("DELETE FROM history_rollups WHERE width = 86400"))
    db.session.commit()
    assert check_uptime(check, NOW)["90d"] == 0.5


def test_a_server_adds_up_its_public_checks_only(ctx):
    server = make_server("NC036")
    smtp, imap = add_check(server, "SMTP"), add_check(server, "IMAP")
    hidden = add_check(server, "backup", visibility=Visibility.INTERNAL)
    write(smtp, Status.OK, Status.OK, Status.OK)
    write(imap, Status.CRITICAL)
    write(hidden, *[Status.CRITICAL] * 20)
    assert server_uptime(server, NOW)["24h"] == 0.75


def test_an_internal_server_has_no_public_figures(ctx):
    server = make_server("NC099", visibility=Visibility.INTERNAL)
    write(add_check(server), Status.OK)
    assert ratios(server_uptime(server, NOW)) == {"24h": None, "7d": None, "30d": None, "90d": None}
