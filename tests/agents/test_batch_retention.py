"""The ids of batches taken are forgotten after AGENT_BATCH_DAYS, oldest first and a bounded number at a time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from ninerstatus.agents.models import AgentBatch, Location
from ninerstatus.agents.retention import prune_batches
from ninerstatus.extensions import db
from ninerstatus.runner.housekeeping import Housekeeper

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def kept(app) -> list[str]:
    return sorted(db.session.scalars(select(AgentBatch.batch_id)))


def batches_received(ages: dict[str, float]) -> None:
    """A location's batches, each taken ``ages[id]`` days before NOW."""
    location = Location(name="Lusaka")
    db.session.add(location)
    db.session.flush()
    for name, age in ages.items():
        db.session.add(AgentBatch(location_id=location.id, batch_id=name, received_at=NOW - timedelta(days=age)))
    db.session.commit()


def test_batches_older_than_the_setting_go_and_the_rest_stay(app):
    app.config["AGENT_BATCH_DAYS"] = 30
    with app.app_context():
        batches_received({"a": 45, "b": 31, "c": 30.01, "d": 29.99, "e": 1})
        assert prune_batches(NOW, 2) == 2  # the oldest first, no more than asked
        db.session.commit()
        assert kept(app) == ["c", "d", "e"]
        assert prune_batches(NOW, 100) == 1
        db.session.commit()
        assert kept(app) == ["d", "e"]
        assert prune_batches(NOW, 100) == 0


def test_the_housekeeper_prunes_batches_beside_history(app):
    app.config["AGENT_BATCH_DAYS"] = 1
    with app.app_context():
        batches_received({"old": 2, "new": 0})
        housekeeper = Housekeeper(app, lambda: NOW, stop=None)
        assert housekeeper.prune() is False
        db.session.rollback()
        assert kept(app) == ["new"]
