"""Forgetting the ids of batches taken long ago, so that the record of batches stays small.

A batch id is kept so that a batch sent again is taken once (agents/ingest.py).
An agent sends a batch again only while it waits in its spool, so after
``AGENT_BATCH_DAYS`` the id is no longer needed; and a batch older than
that which did come again would change nothing: every location keeps only
results newer than its latest (runner/results.py), and history skips a
second it already holds.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, tuple_

from ..extensions import db
from .models import AgentBatch


def prune_batches(now: datetime, limit: int) -> int:
    """Delete up to ``limit`` batch records older than ``AGENT_BATCH_DAYS`` (no commit); return how many went."""
    cutoff = now - timedelta(days=float(current_app.config["AGENT_BATCH_DAYS"]))
    keys = db.session.execute(select(AgentBatch.location_id, AgentBatch.batch_id)
                              .where(AgentBatch.received_at < cutoff).order_by(AgentBatch.received_at)
                              .limit(limit)).all()
    if keys:
        db.session.execute(delete(AgentBatch).where(tuple_(AgentBatch.location_id, AgentBatch.batch_id).in_(keys)))
    return len(keys)
