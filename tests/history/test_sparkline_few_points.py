"""A sparkline with little data, as on a new install: readable, and never cut by the edges of its box."""
from __future__ import annotations

import re

import pytest

from ninerstatus.history.rollup import Tally
from ninerstatus.history.sparkline import HEIGHT, WIDTH, Sparkline

from .test_display import NOW, one_hour

# Half the stroke width in the stylesheet: what a round cap adds beyond a path's ends.
HALF_STROKE = 0.75


def extent(path: str) -> tuple[float, float, float, float]:
    """The smallest and largest x and y the stroke of ``path`` reaches (M, L and relative h only)."""
    xs, ys = [], []
    for command, x, y, dash in re.findall(r"([ML])([\d.]+),([\d.]+)(?:h([\d.]+))?", path):
        xs += [float(x), float(x) + float(dash or 0)]
        ys.append(float(y))
    return min(xs) - HALF_STROKE, max(xs) + HALF_STROKE, min(ys) - HALF_STROKE, max(ys) + HALF_STROKE


def hours(*measured: int | None) -> tuple[Tally, ...]:
    """24 hours, the last ones measured with these mean latencies (None for an hour without)."""
    tail = tuple(Tally() if latency is None else one_hour(latency) for latency in measured)
    return (Tally(),) * (24 - len(tail)) + tail


def test_no_data_draws_no_line_and_says_so():
    line = Sparkline(hours(), NOW)
    assert line.path == ""
    assert line.summary == "no response times measured in the last 24 hours"


@pytest.mark.parametrize("measured", [(8_000,), (8_000, None), (8_000, None, None, None)])
def test_one_hour_is_a_dash_wide_enough_to_see_and_inside_the_box(measured):
    line = Sparkline(hours(*measured), NOW)
    left, right, top, bottom = extent(line.path)
    assert right - left >= 4
    assert 0 <= left and right <= WIDTH and 0 <= top and bottom <= HEIGHT
    assert line.summary == "only one hour measured in the last 24 hours: mean 8.0 ms, 95 % within 8.0 ms"


def test_a_lone_first_hour_is_kept_inside_the_left_edge():
    left, _right, _top, _bottom = extent(Sparkline((one_hour(8_000),) + (Tally(),) * 23, NOW).path)
    assert left >= 0


def test_two_hours_are_a_line_inside_the_box():
    line = Sparkline(hours(8_000, 4_000), NOW)
    left, right, top, bottom = extent(line.path)
    assert line.path.startswith("M") and "L" in line.path
    assert right - left >= 4
    assert 0 <= top and bottom <= HEIGHT
    assert line.summary.startswith("last 24 hours: mean 6.0 ms")
