"""Column types that read stored rows without trusting them.

Rows are written by this code, by older versions of it, by plugins and by
people with a database shell. A value the code would never write (an enum
value no member has, JSON that does not parse) must not make a whole query
fail, or one bad row takes every page that lists it down with it, and the
probe runner too. So these types read such values as something the code can
go on with: an enum column either as its safest member or, where the owner
must report the row instead (a check's TLS mode), as an ``UnknownMember``;
a JSON column as the text that did not parse; a number within the bounds
that arithmetic on it needs.
"""
from __future__ import annotations

import enum
import json
import math
from typing import Any

from sqlalchemy import JSON, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UnknownMember(str):
    """A stored enum value that names no member, kept as its text so its owner can say what is wrong.

    It equals no member, so ``is``/``==`` tests against members are all
    false, and it has a ``value`` like a member so it can be shown.
    """

    @property
    def value(self) -> str:
        """The stored text."""
        return str(self)


class StoredEnum(TypeDecorator):
    """An enum kept as its value in a short string column (not a native enum type).

    :param enum_cls: the enum whose members' values are stored.
    :param unknown: the member a stored value that names no member is read as;
        None reads it as an ``UnknownMember`` instead.
    """

    impl = String(16)
    cache_ok = True

    def __init__(self, enum_cls: type[enum.Enum], unknown: enum.Enum | None = None) -> None:
        super().__init__()
        self.enum_cls = enum_cls
        self.unknown = unknown

    def process_bind_param(self, value: Any, dialect) -> str | None:
        if value is None or isinstance(value, UnknownMember):
            # An unknown value read from the row goes back as it was read, never as a guess.
            return None if value is None else str(value)
        return self.enum_cls(value).value

    def process_result_value(self, value: str | None, dialect) -> enum.Enum | UnknownMember | None:
        if value is None:
            return None
        try:
            return self.enum_cls(value)
        except ValueError:
            return self.unknown if self.unknown is not None else UnknownMember(value)

    @property
    def python_type(self) -> type:
        return self.enum_cls


# Enums are stored as short strings (not native enum types) so adding a value
# is a code change, not an ALTER TYPE on PostgreSQL.
def enum_column(enum_cls: type[enum.Enum], default: enum.Enum, *, unknown: enum.Enum | None) -> Mapped:
    """A required enum column; ``unknown`` is what a stored value naming no member reads as (see StoredEnum)."""
    return mapped_column(StoredEnum(enum_cls, unknown), default=default, nullable=False)


class StoredJSON(TypeDecorator):
    """JSON whose stored text, when it does not parse (SQLite keeps any text), is read as that text.

    Whoever reads the column checks the shape it needs (an object, say) and
    reports anything else; a query over many rows never fails for one.
    """

    impl = JSON
    cache_ok = True

    def result_processor(self, dialect, coltype):
        # Wraps the JSON type's own decoding rather than adding a step after it: it is the
        # decoding itself that fails on text that is not JSON.
        decode = self.impl_instance.result_processor(dialect, coltype)
        if decode is None:
            return None

        def process(value: Any) -> Any:
            try:
                return decode(value)
            except (ValueError, TypeError, RecursionError):
                return value
        return process


def encoded_json(value: Any) -> str:
    """``value`` as a JSON column stores it: the text ``EncodedJSON`` writes as it is."""
    return json.dumps(value)


class EncodedJSON(TypeDecorator):
    """JSON already encoded (``encoded_json``), written to a JSON column as that text.

    The same stored text as the JSON type would write for the value: for a
    value written to several rows (a result kept by its location and by
    its check), encoded once rather than once a row.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect):
        if dialect.name == "sqlite":  # a JSON column there is text
            return None
        if dialect.driver == "psycopg":
            from psycopg.types.json import Json

            # psycopg writes a JSON parameter with json.dumps, as encoded_json did already.
            return lambda text: None if text is None else Json(text, dumps=str)
        # Another driver is given the value, for the JSON type to write as it does.
        encode = self.impl_instance.bind_processor(dialect)
        return lambda text: None if text is None else encode(json.loads(text))


class _Bounded(TypeDecorator):
    """A number read back within ``low..high``: beyond them it reads as the nearest bound, and not finite as ``low``.

    Keeps the arithmetic done with it (time spans, dates) from overflowing,
    whatever a hand edit stored.
    """

    def __init__(self, low: float, high: float) -> None:
        super().__init__()
        self.low = low
        self.high = high

    def process_result_value(self, value: float | None, dialect) -> float | None:
        if value is None:
            return None
        if not math.isfinite(value):  # NaN has no nearest bound; and an "infinite" span is no span
            return self.low
        return min(max(value, self.low), self.high)


class BoundedInteger(_Bounded):
    """An integer column read within bounds (see _Bounded)."""

    impl = Integer
    cache_ok = True  # read from the class itself, never inherited


class BoundedFloat(_Bounded):
    """A floating-point column read within bounds (see _Bounded)."""

    impl = Float
    cache_ok = True
