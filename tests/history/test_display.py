"""History on the public site: uptime figures, 90 daily bars, the sidebar strip and sparklines."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event

from ninerstatus.extensions import db
from ninerstatus.history.display import band, format_uptime, runs
from ninerstatus.history.recorder import record_samples
from ninerstatus.history.rollup import Sample, Tally, epoch_seconds
from ninerstatus.history.sparkline import Sparkline, format_latency, sparklines
from ninerstatus.history.uptime import DayBar, daily_bars, daily_bars_by_server
from ninerstatus.models import Visibility
from ninerstatus.probing import Status
from ninerstatus.timeutil import utcnow

from ..factories import main_of, make_server
from .conftest import add_check, at

NOW = at("2026-03-10 12:02:30")


@pytest.mark.parametrize("ratio, text", [(None, "no data"), (1.0, "100 %"), (0.99996, "99.99 %"),
                                         (0.5, "50.00 %"), (0.0, "0.00 %")])
def test_uptime_is_cut_never_rounded_up_to_a_perfect_score(ratio, text):
    assert format_uptime(ratio) == text


@pytest.mark.parametrize("counts, expected", [
    ((1000, 0, 1), "ok"), ((995, 0, 5), "minor"), ((96, 4, 0), "major"), ((90, 0, 10), "outage"),
    ((0, 0, 0, 5, 0), "nodata"), ((0, 0, 0, 0, 5), "maintenance")])
def test_each_day_falls_in_one_colour_band(counts, expected):
    assert band(DayBar(date(2026, 3, 1), *counts)) == expected


def test_the_strip_merges_days_of_the_same_band_into_runs():
    days = [DayBar(date(2026, 3, d), *counts) for d, counts in
            enumerate([(10, 0, 0), (10, 0, 0), (9, 0, 1), (), (10, 0, 0)], start=1)]
    grouped = runs(days)
    assert [(run.first, len(run.bars), run.band) for run in grouped] == [
        (0, 2, "ok"), (2, 1, "outage"), (3, 1, "nodata"), (4, 1, "ok")]
    assert grouped[0].label == "1 March 2026 to 2 March 2026: 100 %"
    assert grouped[1].label == "3 March 2026: 90.00 %"
    assert grouped[2].label == "4 March 2026: no data"


@pytest.mark.parametrize("microseconds, text", [(None, "no data"), (400, "0.4 ms"), (12_345, "12 ms"),
                                                (1_250_000, "1.25 s")])
def test_response_times_read_naturally(microseconds, text):
    assert format_latency(microseconds) == text


def one_hour(*latencies_us: int) -> Tally:
    return Tally.of_samples(Sample(1, n, Status.OK, latency, None, False) for n, latency in enumerate(latencies_us))


def test_a_sparkline_scales_from_zero_to_the_slowest_hour_and_leaves_gaps():
    line = Sparkline((one_hour(10_000), one_hour(20_000), Tally(), one_hour(5_000), one_hour(20_000)), NOW)
    # x steps of 30 over a 120-wide box; y from 22.5 (zero) up to 1.5 (the slowest hour).
    assert line.path == "M0.0,12.0L30.0,1.5M90.0,17.2L120.0,1.5"
    assert Sparkline((Tally(), one_hour(8_000), Tally()), NOW).path == "M58.0,1.5h4"
    assert Sparkline((Tally(),) * 24, NOW).path == ""


def test_a_sparkline_summary_gives_mean_p95_and_the_slowest_hour():
    line = Sparkline((one_hour(10_000, 10_000), one_hour(40_000)), NOW)
    assert line.summary == "last 2 hours: mean 20 ms, 95 % within 40 ms, slowest hourly mean 40 ms"
    assert Sparkline((Tally(),) * 24, NOW).summary == "no response times measured in the last 24 hours"


def write_days(check, days: int, *, down_on: tuple[int, ...] = (), now=NOW) -> None:
    """One result an hour for ``days`` days up to ``now``; every result of the days ``down_on`` back fails."""
    end = epoch_seconds(now)
    record_samples(Sample(check.id, moment, Status.CRITICAL if (end - moment) // 86400 in down_on else Status.OK,
                          20_000, None, False)
                   for moment in range(end - days * 86400, end, 3600))
    db.session.commit()


def test_daily_bars_give_90_utc_days_ending_today(check):
    write_days(check, 100)
    bars = daily_bars(check.server, NOW)
    assert len(bars) == 90 and bars[-1].day == date(2026, 3, 10) and bars[0].day == date(2025, 12, 11)
    assert bars[-1].up == 12 and bars[0].up == 24


class Statements:
    """Every SQL statement sent while the block runs."""

    def __enter__(self):
        self.seen: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def _record(self, _conn, _cursor, statement, *_args):
        self.seen.append(statement)

    def __exit__(self, *_exc):
        event.remove(db.engine, "before_cursor_execute", self._record)


def test_the_bars_of_every_server_come_from_daily_rollups_the_days_over_summed_once(ctx):
    servers = [make_server(code) for code in ("NC036", "NC037", "NC038")]
    for server in servers:
        write_days(add_check(server), 3)
    with Statements() as first:
        bars = daily_bars_by_server(NOW)
    with Statements() as again:
        assert daily_bars_by_server(NOW) == bars
    # The revision, the days over, today; then the revision and today only.
    assert len(first.seen) == 3 and len(again.seen) == 2
    assert "history_revision" in first.seen[0] and "history_revision" in again.seen[0]
    assert all("history_rollups" in statement and "history_raw" not in statement
               for statement in first.seen[1:] + again.seen[1:])
    assert sorted(bars) == sorted(server.id for server in servers)


def test_bars_ignore_raw_results(check):
    record_samples([Sample(check.id, epoch_seconds(NOW) - 60, Status.OK, 1000, None, False)])
    db.session.execute(db.text("DELETE FROM history_rollups"))
    db.session.commit()
    assert all(bar.uptime is None for bar in daily_bars(check.server, NOW))


def test_the_server_page_shows_figures_bars_and_sparklines(check, client):
    # Half past each hour, so no result sits on the edge of a window while the page renders.
    write_days(check, 95, down_on=(2,), now=utcnow() - timedelta(minutes=30))
    page = main_of(client.get("/servers/NC036"))
    figures = dict(re.findall(r"<dt>Last ([^<]+)</dt><dd>([^<]+)</dd>", page))
    assert figures["24 hours"] == "100 %"
    # 167 results in 7 days, the 24 of the day before yesterday failed.
    assert figures["7 days"] == format_uptime(143 / 167)
    bars = re.findall(r'<li class="bar bar-(\w+)" title="([^"]+)"><span class="visually-hidden">([^<]+)</span>', page)
    assert len(bars) == 90
    assert all(title == hidden for _band, title, hidden in bars)
    assert sum(1 for band_, _t, _h in bars if band_ == "outage") in (1, 2)
    assert re.search(r'<svg class="sparkline"[^>]*><title>SMTP 587: last 24 hours: mean 20 ms', page)
    assert '<path d="M0.0,' in page


def test_a_sparkline_drawn_before_shows_a_new_result_on_the_next_page(check, client):
    # Sparklines are drawn once per worker for the same line: a new result is a new line.
    write_days(check, 2, now=utcnow() - timedelta(minutes=30))
    before = main_of(client.get("/servers/NC036"))
    assert "slowest hourly mean 20 ms" in before
    record_samples([Sample(check.id, epoch_seconds(utcnow()) - 60, Status.OK, 2_000_000, None, False)])
    db.session.commit()
    after = main_of(client.get("/servers/NC036"))
    assert "slowest hourly mean 20 ms" not in after and re.search(r"slowest hourly mean \d[\d.]* s", after)


def test_every_server_text_in_history_is_escaped(ctx, client):
    server = make_server("NC036")
    write_days(add_check(server, label='<script>alert(1)</script>"'), 2, now=utcnow())
    page = client.get("/servers/NC036").get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;: last 24 hours" in page


def test_the_sidebar_shows_a_thin_strip_for_public_servers_only(ctx, client):
    public = make_server("NC036")
    write_days(add_check(public), 95, down_on=(3,), now=utcnow())
    internal = make_server("NC099", visibility=Visibility.INTERNAL)
    write_days(add_check(internal), 5, now=utcnow())
    page = client.get("/").get_data(as_text=True)
    glance = page[page.index("Systems at a Glance"):page.index("Recent Posts")]
    assert glance.count('class="uptime-strip"') == 1
    entry = glance[glance.index('href="/servers/NC036"'):glance.index('href="/servers/NC099"')]
    rects = re.findall(r'<rect class="bar-(\w+)" x="(\d+)" width="(\d+)"', entry)
    assert sum(int(width) for _b, _x, width in rects) == 90
    assert "outage" in {band_ for band_, _x, _w in rects}
    assert "Last 90 days: " in entry and "100 %" in entry


def test_a_server_without_history_shows_no_data(ctx, client):
    add_check(make_server("NC036"))
    page = main_of(client.get("/servers/NC036"))
    assert "<dt>So far</dt><dd>no data yet</dd>" in page and "<dt>Last" not in page
    assert page.count('class="bar bar-nodata"') == 90
    assert "no response times measured" in page


def test_an_internal_server_page_shows_no_history(ctx, client):
    server = make_server("NC099", visibility=Visibility.INTERNAL)
    write_days(add_check(server), 2, now=utcnow())
    page = main_of(client.get("/servers/NC099"))
    assert "uptime-bars" not in page and "sparkline" not in page


def test_sparklines_come_from_hourly_rollups(check):
    write_days(check, 2)
    line = sparklines([check.id], NOW)[check.id]
    assert len(line.hours) == 24 and line.first_hour == NOW.replace(minute=0, second=0) - timedelta(hours=23)
    # One result an hour, the last at 11:02:30: the current hour has none yet.
    assert [hour.latency_count for hour in line.hours] == [1] * 23 + [0]
