"""The recording keeps each location's own history: the result as that location saw it, beside the check's."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select, text

from ninerstatus.agents.locations import site_location
from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.located import location_samples, uptime_by_location
from ninerstatus.history.models import HistoryRollup, LocationDailyTally, LocationRawResults
from ninerstatus.history.raw import read_samples
from ninerstatus.history.rollup import epoch_seconds
from ninerstatus.models import PostKind, Server

from ..factories import make_post, make_server
from ..runner.test_locations import CRIT, OK, WARN, T0, at, check_of, from_site, round_of, site  # noqa: F401

DAY = 86400


def seen(check_id: int) -> dict[int, list]:
    """Each location's (minute, status) of the check, oldest first."""
    db.session.rollback()
    start = epoch_seconds(T0)
    return {location: [((sample.checked_at - start) / 60, sample.status) for sample in samples]
            for location, samples in location_samples(check_id, start - 3600, start + DAY).items()}


def test_each_location_keeps_what_it_saw_while_the_check_keeps_the_combination(site):  # noqa: F811
    round_of(site, 0, OK, CRIT, OK)
    round_of(site, 1, CRIT, CRIT, OK)
    site_id = site_location().id
    # Lusaka at minute n, Frankfurt 0.1 later, the site's runner 0.2 later: times are whole seconds.
    assert seen(site["check"]) == {site_id: [(0.2, OK), (1.2, CRIT)], site["lusaka"]: [(0, CRIT), (1, CRIT)],
                                   site["frankfurt"]: [(0.1, OK), (1.1, OK)]}
    assert [sample.status for sample in read_samples([site["check"]])] == [CRIT, WARN, WARN, WARN, WARN, CRIT]
    now = at(2)
    assert uptime_by_location([site["check"]], now) == {(site["check"], site_id): 0.5,
                                                        (site["check"], site["lusaka"]): 0.0,
                                                        (site["check"], site["frankfurt"]): 1.0}


def test_results_in_a_maintenance_window_are_maintenance_at_their_location_too(site):  # noqa: F811
    server = db.session.get(Server, site["server"])
    window = make_post("Router swap", kind=PostKind.MAINTENANCE, servers=(server,), published_at=T0 - timedelta(days=1))
    window.starts_at, window.ends_at = at(0.5), at(1.5)
    db.session.commit()
    round_of(site, 0, OK, CRIT, OK)
    round_of(site, 1, OK, CRIT, OK)
    lusaka = db.session.get(LocationDailyTally, (site["check"], epoch_seconds(T0) // DAY * DAY, site["lusaka"]))
    assert (lusaka.down, lusaka.maintenance) == (1, 1)
    flags = [sample.in_maintenance for sample in location_samples(site["check"], 0, epoch_seconds(at(2)))[
        site["lusaka"]]]
    assert flags == [False, True]


def test_a_site_without_agents_writes_per_location_rows_for_its_own_location_only(app):
    with app.app_context():
        server = make_server("NC031")
        checks = [Check(server=server, type_name="smtp", label=label, host="mail.example.net", port=587,
                        interval_seconds=60) for label in ("SMTP", "IMAP")]
        db.session.add_all(checks)
        db.session.commit()
        ids = [check.id for check in checks]
        for minute in range(5):
            for check_id in ids:
                from_site(check_id, CRIT if minute == 2 else OK, minute + 0.5)
        db.session.rollback()
        site_id = site_location().id
        assert set(db.session.scalars(select(LocationRawResults.location_id))) == {site_id}
        assert set(db.session.scalars(select(LocationDailyTally.location_id))) == {site_id}
        for check_id in ids:
            # With one location, its history is the check's, result for result and tally for tally.
            assert location_samples(check_id, 0, epoch_seconds(at(10))) == {site_id: read_samples([check_id])}
            day = db.session.get(LocationDailyTally, (check_id, epoch_seconds(T0) // DAY * DAY, site_id))
            rollup = db.session.get(HistoryRollup, (check_id, DAY, epoch_seconds(T0) // DAY * DAY))
            assert day.tally() == rollup.tally() and (day.up, day.down) == (4, 1)


def test_a_spoiled_location_row_never_stops_the_recording(site, caplog):  # noqa: F811
    round_of(site, 0, OK, OK, OK)
    db.session.execute(text("UPDATE history_location_raw SET results = :garbage"), {"garbage": b"\x01\xff"})
    db.session.commit()
    caplog.set_level(logging.WARNING)
    # Every location's next results go to its spoiled row of the hour: it cannot be read, so they are not packed.
    round_of(site, 1, OK, CRIT, CRIT)
    round_of(site, 2, OK, CRIT, CRIT)
    assert check_of(site).state == "critical"
    assert "cannot be read, so 1 new results are kept in the rollups only" in caplog.text
    assert "history recorder failed" not in caplog.text
    day = epoch_seconds(T0) // DAY * DAY
    assert db.session.get(LocationDailyTally, (site["check"], day, site["lusaka"])).down == 2
    assert db.session.scalar(select(func.count()).select_from(LocationRawResults)) == 3
    assert len(read_samples([site["check"]])) == 9
    assert seen(site["check"]) == {}
