"""Short write transactions that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from ..extensions import db
from ..plugins import Plugins

log = logging.getLogger(__name__)

T = TypeVar("T")


class RowRefused(Exception):
    """The database refused a row of a statement written for many rows at once; the transaction is spoiled."""


@contextmanager
def write_transaction() -> Iterator[Session]:
    """Run the block in one transaction of its own, committed at the end and rolled back on error.

    On SQLite the write lock is taken up front (``BEGIN IMMEDIATE``): a
    transaction that reads and then writes would otherwise find, at its first
    write, that another writer got in between, and fail instead of waiting.
    On PostgreSQL rows are locked where they are read (``FOR UPDATE``).
    """
    session = db.session
    # Whatever this session read before belongs to an earlier, read-only transaction.
    session.rollback()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("BEGIN IMMEDIATE"))
    try:
        yield session
    except BaseException:
        session.rollback()
        raise
    session.commit()


def rows_at_once_else_one_by_one(work: Callable[[bool], T]) -> T:
    """Run ``work(one_by_one)`` in a ``write_transaction``: first with each statement written for all its rows at
    once (``False``); if the database refuses one of them (``RowRefused``), all again in a new transaction, each
    row on its own (``True``), so that only the rows refused are left out.

    Writing all at once needs no savepoint, and a batch of results is
    written in a handful of statements; a refused row is rare (a row spoilt
    by hand, a trigger), and costs its batch the transaction it spoilt.
    """
    try:
        with write_transaction():
            return work(False)
    except RowRefused as refused:
        log.warning("%s; writing the rows one by one", refused)
    with write_transaction():
        return work(True)


def guarded(what: str, call, *args, **kwargs) -> None:
    """Call a plugin or another engine inside the open transaction; its failure is logged and undone alone.

    The call runs in a savepoint, so whatever it wrote before raising is
    rolled back while the runner's own writes stay.
    """
    try:
        with db.session.begin_nested():
            call(*args, **kwargs)
    except Exception:
        log.exception("%s failed; the runner carries on", what)


def call_hook(plugins: Plugins, name: str, **kwargs) -> None:
    """Call each plugin's implementation of hook ``name`` on its own, in pluggy's order.

    Through pluggy one raising plugin would keep the plugins after it from
    hearing the event; here each is ``guarded`` apart.
    """
    for impl in reversed(getattr(plugins.hook, name).get_hookimpls()):
        guarded(f"{name} of plugin {impl.plugin_name}", impl.function, *(kwargs[arg] for arg in impl.argnames))
