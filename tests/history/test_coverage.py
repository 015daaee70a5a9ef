"""How much data backs each uptime figure: "since" wording, "no data yet", days without data, and the API's coverage.

Every page and document here is drawn at NOW by a clock the test sets, never by the real time.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from ninerstatus.api import views as api_views
from ninerstatus.checks import status as check_status
from ninerstatus.extensions import db
from ninerstatus.history import display
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.rollup import Sample, epoch_seconds
from ninerstatus.history.uptime import first_results, uptimes
from ninerstatus.probing import Status

from ..factories import main_of, make_server
from .conftest import add_check, at

NOW = at("2026-12-02 11:40:00")


@pytest.fixture
def app_config():
    """API documents worked out afresh for every request."""
    return {"API_CACHE_SECONDS": 0}


@pytest.fixture
def clock(monkeypatch):
    """Pages and API documents drawn at NOW."""
    for module in (display, api_views, check_status):
        monkeypatch.setattr(module, "utcnow", lambda: NOW)


def record(check, *moments, status: Status = Status.OK) -> None:
    """One result of ``status`` at each of ``moments``."""
    record_samples([Sample(check.id, epoch_seconds(moment), status, 20_000, None, False) for moment in moments])
    db.session.commit()


def every_minute(since, until=NOW):
    """One moment a minute from ``since`` up to (not including) ``until``."""
    return [since + timedelta(minutes=n) for n in range(int((until - since).total_seconds() // 60))]


def every_hour(days: int, until=NOW):
    """One moment an hour, half past, for ``days`` days up to ``until``."""
    start = until.replace(minute=30, second=0) - timedelta(days=days)
    return [start + timedelta(hours=n) for n in range(days * 24)]


def figures_of(page: str) -> list[tuple[bool, str, str]]:
    """The server page's uptime figures: (whether it covers less than its window, what it covers, its value)."""
    return [(bool(partial), label, value) for partial, label, value in
            re.findall(r'<div( class="uptime-partial")?><dt>([^<]+)</dt><dd>([^<]+)</dd></div>', page)]


# When the data starts.

@pytest.mark.parametrize("first, expected", [
    # Raw results are kept 7 days: exact to the second.
    ("2026-12-02 11:38:07", "2026-12-02 11:38:07"),
    # Then 5-minute rollups (30 days): the 5-minute bucket, even while the raw row still waits to be pruned.
    ("2026-11-20 04:58:13", "2026-11-20 04:55"),
    # Then hourly rollups (396 days): the hour.
    ("2026-10-01 04:58:13", "2026-10-01 04:00"),
    # Then daily rollups, kept for good: the day.
    ("2025-10-01 04:58:13", "2025-10-01 00:00"),
])
def test_the_first_result_is_read_from_the_finest_tier_that_still_holds_it(check, first, expected):
    record(check, at(first), at(first) + timedelta(hours=30), NOW - timedelta(minutes=1))
    assert first_results([check.id], NOW) == {check.id: epoch_seconds(at(expected))}


def test_a_check_without_results_has_no_first_result(check):
    assert first_results([check.id], NOW) == {}


def test_a_server_check_added_later_does_not_shorten_the_servers_windows(ctx):
    server = make_server("NC036")
    old, new = add_check(server, "SMTP"), add_check(server, "IMAP")
    record(old, *every_hour(100))
    record(new, *every_minute(NOW - timedelta(minutes=2)))
    ids = [old.id, new.id]
    assert all(window.complete for window in uptimes(ids, NOW).values())
    young = uptimes([new.id], NOW)
    assert [window.since for window in young.values()] == [NOW - timedelta(minutes=2)] * 4
    assert not any(window.complete for window in young.values())


def test_a_gap_in_the_data_does_not_make_a_window_short(check):
    # Probed 100 days ago for a day, then nothing until the last two hours: the runner was down.
    record(check, *every_hour(1, until=NOW - timedelta(days=99)), *every_hour(1)[-2:])
    windows = uptimes([check.id], NOW)
    assert windows["90d"].complete and windows["90d"].covered_seconds == 90 * 86400
    assert windows["90d"].uptime == 1.0


def test_results_stored_for_a_later_day_count_in_no_figure_and_start_the_data_now(check):
    record(check, NOW + timedelta(days=3650))
    record_samples([Sample(check.id, 2**62, Status.OK, 1000, None, False)])
    db.session.commit()
    windows = uptimes([check.id], NOW)
    assert {(window.since, window.covered_seconds, window.complete, window.uptime) for window in windows.values()} == {
        (NOW, 0, False, None)}


def test_a_page_whose_only_result_lies_in_the_future_still_renders(check, client, clock):
    record_samples([Sample(check.id, 2**62, Status.OK, 1000, None, False)])
    db.session.commit()
    page = main_of(client.get("/servers/NC036"))
    assert figures_of(page) == [(True, "Since 11:40 UTC", "no data yet")]
    assert "SMTP 587: no response times measured since 11:40 UTC" in page


# What the server page says.

def test_two_minutes_of_data_say_since_when_not_last_90_days(check, client, clock):
    record(check, NOW - timedelta(seconds=110), NOW - timedelta(seconds=50))
    record(check, NOW - timedelta(seconds=80), NOW - timedelta(seconds=20), status=Status.CRITICAL)
    page = main_of(client.get("/servers/NC036"))
    assert figures_of(page) == [(True, "Since 11:38 UTC", "50.00 %")]
    assert "Last 90 days" not in page and "Last 24 hours" not in page


def test_windows_longer_than_the_data_are_one_figure_since_its_first_result(check, client, clock):
    record(check, at("2026-11-22 04:55:00"), *every_hour(7))
    page = main_of(client.get("/servers/NC036"))
    assert figures_of(page) == [(False, "Last 24 hours", "100 %"), (False, "Last 7 days", "100 %"),
                                (True, "Since 22 Nov 04:55 UTC", "100 %")]


def test_full_windows_say_last_so_many_days(check, client, clock):
    record(check, *every_hour(95))
    record(check, NOW - timedelta(days=80, minutes=15), status=Status.CRITICAL)
    page = main_of(client.get("/servers/NC036"))
    assert figures_of(page) == [(False, "Last 24 hours", "100 %"), (False, "Last 7 days", "100 %"),
                                (False, "Last 30 days", "100 %"), (False, "Last 90 days", "99.95 %")]
    assert "Since" not in page


def test_a_check_that_never_ran_says_no_data_yet(check, client, clock):
    page = main_of(client.get("/servers/NC036"))
    assert figures_of(page) == [(True, "So far", "no data yet")]
    assert "%" not in page[page.index('<dl class="uptime-figures">'):page.index("</dl>", page.index("uptime-figures"))]


def test_a_full_window_without_results_says_no_data(check, client, clock):
    # Probed for 95 days, then not for the last three: the runner was down.
    record(check, *every_hour(92, until=NOW - timedelta(days=3)))
    page = main_of(client.get("/servers/NC036"))
    assert figures_of(page)[0] == (False, "Last 24 hours", "no data")
    assert figures_of(page)[1] == (False, "Last 7 days", "100 %")


def test_days_without_data_are_their_own_band_with_their_own_words(check, client, clock):
    record(check, *every_hour(2))
    page = main_of(client.get("/servers/NC036"))
    bars = re.findall(r'<li class="bar bar-(\w+)" title="([^"]+)"><span class="visually-hidden">([^<]+)</span>', page)
    assert [band for band, _title, _text in bars] == ["nodata"] * 87 + ["ok"] * 3
    assert bars[0][1:] == ("4 September 2026: no data", "4 September 2026: no data")
    assert bars[-1][1:] == ("2 December 2026: 100 %", "2 December 2026: 100 %")


def test_the_server_page_explains_the_colours_of_the_days(check, client, clock):
    page = main_of(client.get("/servers/NC036"))
    legend = page[page.index('<ul class="uptime-legend"'):page.index("</ul>", page.index("uptime-legend"))]
    assert re.findall(r'<span class="swatch bar-(\w+)" aria-hidden="true"></span>([^<]+)</li>', legend) == [
        ("ok", "99.9 % or more up"), ("minor", "99 % to 99.9 % up"), ("major", "95 % to 99 % up"),
        ("outage", "below 95 % up"), ("maintenance", "maintenance only"), ("nodata", "no data")]


def test_the_sidebar_strip_draws_days_without_data_as_a_thin_line(check, client, clock):
    record(check, *every_hour(2))
    page = client.get("/").get_data(as_text=True)
    strip = page[page.index('<div class="uptime-strip">'):]
    strip = strip[:strip.index("</div>")]
    assert re.findall(r'<rect class="bar-(\w+)" x="(\d+)" width="(\d+)" (y="[\d.]+" )?height="([\d.]+)"><title>'
                      r'([^<]+)</title>', strip) == [
        ("nodata", "0", "87", 'y="0.3" ', "0.4", "4 September 2026 to 29 November 2026: no data"),
        ("ok", "87", "3", "", "1", "30 November 2026 to 2 December 2026: 100 %")]
    assert "Last 90 days: 4 September 2026 to 29 November 2026: no data; " in strip


def test_a_young_checks_sparkline_says_since_when(check, client, clock):
    record(check, *every_minute(NOW - timedelta(minutes=100)))
    page = main_of(client.get("/servers/NC036"))
    assert "SMTP 587: since 10:00 UTC: mean 20 ms" in page


# What the API says.

def test_the_api_tells_a_short_window_from_a_full_one(ctx, client, clock):
    server = make_server("NC036")
    old, new = add_check(server, "SMTP"), add_check(server, "IMAP")
    record(old, *every_hour(10))
    record(new, NOW - timedelta(minutes=2))
    document = client.get("/api/servers/NC036").get_json()
    uptime = document["uptime"]
    assert (uptime["24h"], uptime["90d"]) == (1.0, 1.0)
    assert uptime["windows"]["24h"] == {"uptime": 1.0, "since": "2026-12-01T11:40:00.000+00:00",
                                        "covered_seconds": 86400, "complete": True}
    ten_days_ago = (NOW - timedelta(days=10)).replace(minute=30)
    assert uptime["windows"]["90d"] == {"uptime": 1.0, "since": ten_days_ago.isoformat(timespec="milliseconds"),
                                        "covered_seconds": int((NOW - ten_days_ago).total_seconds()),
                                        "complete": False}
    by_name = {check["name"]: check["uptime"] for check in document["checks"]}
    assert by_name["IMAP"]["windows"]["24h"] == {"uptime": 1.0, "since": "2026-12-02T11:38:00.000+00:00",
                                                 "covered_seconds": 120, "complete": False}
    assert by_name["SMTP"]["windows"]["7d"]["complete"] is True


def test_the_api_says_a_server_never_measured_has_no_data_in_any_window(ctx, client, clock):
    add_check(make_server("NC036"))
    uptime = client.get("/api/servers/NC036").get_json()["uptime"]
    assert {key: uptime[key] for key in ("24h", "7d", "30d", "90d")} == dict.fromkeys(("24h", "7d", "30d", "90d"))
    assert set(uptime["windows"]) == {"24h", "7d", "30d", "90d"}
    assert all(window == {"uptime": None, "since": None, "covered_seconds": 0, "complete": False}
               for window in uptime["windows"].values())
