"""A stored history row is untrusted: a rollup bucket spoiled by hand (a histogram that cannot be read) costs
only that bucket its new results, never the history of the other checks recorded in the same round."""
from __future__ import annotations

import logging

from sqlalchemy import select, text

from ninerstatus.extensions import db
from ninerstatus.history.blocks import read_tallies
from ninerstatus.history.models import HistoryRollup
from ninerstatus.history.raw import read_samples
from ninerstatus.history.tiers import PACKED_TIERS

from ..factories import make_server
from .conftest import START, add_check, reread

DAY = 86400


def test_a_spoiled_history_bucket_is_skipped_and_logged_and_every_other_bucket_recorded(probe_runner, greeter,
                                                                                         backend, caplog):
    server = make_server()
    spoiled, other = (add_check(server, greeter.port, label=label).id for label in ("spoiled", "other"))
    day = int(START.timestamp()) // DAY * DAY
    cut_short = "X'0580'" if backend == "sqlite" else "'\\x0580'::bytea"   # a count whose last byte is missing
    db.session.execute(text(
        "INSERT INTO history_rollups (check_id, width, bucket_start, up, degraded, down, unknown, maintenance, "
        f"latency_min_us, latency_max_us, latency_sum_us, histogram) VALUES ({spoiled}, {DAY}, {day}, 1, 0, 0, 0, "
        f"0, 5, 5, 5, {cut_short})"))
    db.session.commit()
    caplog.set_level(logging.WARNING)
    assert probe_runner.run_due() == 2
    reread()
    assert sorted(sample.check_id for sample in read_samples()) == sorted([spoiled, other])
    ups = {(row.check_id, row.width): row.up for row in db.session.scalars(select(HistoryRollup))}
    ups.update(((check_id, tier.width), tally.up) for tier in PACKED_TIERS
               for check_id, _, tally in read_tallies([spoiled, other], tier, day, day + DAY))
    assert ups == {(other, 300): 1, (other, 3600): 1, (other, DAY): 1,
                   (spoiled, 300): 1, (spoiled, 3600): 1, (spoiled, DAY): 1}   # the spoiled bucket as it was
    assert f"history bucket of check {spoiled} (width {DAY} s, start {day}) cannot be updated as stored" in caplog.text
    assert "history recorder failed" not in caplog.text
