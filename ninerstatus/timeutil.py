"""UTC helpers: the site stores and compares every time in UTC."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def format_timestamp(moment: datetime) -> str:
    """Format a time the way the status page always has: ``18 August 2018 01:11:02 +0000``."""
    moment = moment.astimezone(timezone.utc)
    return f"{moment.day} {moment:%B %Y %H:%M:%S %z}"


class UTCDateTime(TypeDecorator):
    """A timestamp column that always hands back aware UTC datetimes.

    SQLite has no time zones and PostgreSQL's ``timestamp without time zone``
    drops them, so values are stored as naive UTC and made aware on the way out;
    naive values coming in are refused because their zone would be a guess.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else _naive_utc(value)

    def bind_processor(self, dialect):
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        # SQLite's text in one step, as SQLAlchemy's own would write it after process_bind_param
        # ("2026-12-03 13:09:25.000000"): the runner writes several times a result.
        def process(value: datetime | None) -> str | None:
            return None if value is None else _naive_utc(value).isoformat(" ", "microseconds")
        return process

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def _naive_utc(value: datetime) -> datetime:
    """``value`` as the naive UTC time a column stores; a naive ``value`` is refused (its zone would be a guess)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given for a UTC column; pass an aware datetime")
    # Most times are UTC already (the runner's all are): converting them would cost more than the rest.
    return (value if value.tzinfo is timezone.utc else value.astimezone(timezone.utc)).replace(tzinfo=None)
