"""Fixtures and builders for history tests: an app context, checks, and results at given times."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from ninerstatus.checks.models import Check
from ninerstatus.extensions import db
from ninerstatus.history.blocks import unpack_rows
from ninerstatus.history.models import HistoryRollup, TallyBlock
from ninerstatus.history.raw import read_samples
from ninerstatus.history.rollup import Sample, Tally
from ninerstatus.history.tiers import TIERS
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
    """The tally of one bucket; None when there is none."""
    found = {(found_id, bucket): tally for found_id, bucket, tally in stored_tallies(width)}
    return found.get((check_id, int(start.timestamp())))


def stored_tallies(width: int) -> list[tuple[int, int, Tally]]:
    """(check_id, bucket_start, tally) of every stored bucket of the tier ``width`` seconds wide, in order."""
    tier = next(tier for tier in TIERS if tier.width == width)
    if tier.block is None:
        rows = db.session.scalars(select(HistoryRollup).where(HistoryRollup.width == width))
        return sorted((row.check_id, row.bucket_start, row.tally()) for row in rows)
    rows = db.session.execute(select(TallyBlock.check_id, TallyBlock.block_start, TallyBlock.tallies).where(
        TallyBlock.width == width))
    return sorted(unpack_rows(tier, rows))


def raw_rows(check_id: int) -> list[Sample]:
    """The raw results of a check, oldest first."""
    return read_samples([check_id])


def ratios(uptime: dict) -> dict:
    """The ratio of each window in the API's uptime object (which also says how much data backs each)."""
    return {key: uptime[key] for key in WINDOWS}
