"""Fixtures and builders for history tests: an app context, checks, and results at given times."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.models import HistoryRollup
from ninerstatus.history.raw import read_samples
from ninerstatus.history.rollup import Sample, Tally
from ninerstatus.history.uptime import WINDOWS
from ninerstatus.models import Server, Visibility
from ninerstatus.probing import ProbeResult, Status, Timings

from ..factories import make_server


@pytest.fixture
def ctx(app):
    """Run the test inside an application context."""
    with app.app_context():
        yield app


def at(text: str) -> datetime:
    """An aware UTC time from ``YYYY-MM-DD HH:MM[:SS]``."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def add_check(server: Server, label: str = "SMTP 587", visibility: Visibility = Visibility.PUBLIC) -> Check:
    """Add a check to ``server``."""
    check = Check(server=server, type_name="smtp", label=label, host="127.0.0.1", port=587, settings={},
                  visibility=visibility)
    db.session.add(check)
    db.session.commit()
    return check


@pytest.fixture
def check(ctx) -> Check:
    """One public check of one public server."""
    return add_check(make_server("NC036"))


def result(status: Status, when: datetime, latency_ms: float | None = 20.0) -> ProbeResult:
    """A probe result of ``status`` taken at ``when``, ``latency_ms`` long."""
    total = None if latency_ms is None else latency_ms / 1000
    return ProbeResult(status, status.label, timings=Timings(total=total), checked_at=when)


def stored_tally(check_id: int, width: int, start: datetime) -> Tally | None:
    """The rollup row of one bucket, as a Tally; None when there is none."""
    row = db.session.scalar(select(HistoryRollup).where(
        HistoryRollup.check_id == check_id, HistoryRollup.width == width,
        HistoryRollup.bucket_start == int(start.timestamp())))
    return row.tally() if row else None


def raw_rows(check_id: int) -> list[Sample]:
    """The raw results of a check, oldest first."""
    return read_samples([check_id])


def ratios(uptime: dict) -> dict:
    """The ratio of each window in the API's uptime object (which also says how much data backs each)."""
    return {key: uptime[key] for key in WINDOWS}
