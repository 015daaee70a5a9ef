"""Rows written with a Core statement handed to the database driver as it is, without SQLAlchemy's work per row.

The runner writes a check's row and its location's row for every result,
thousands a minute, each statement for a whole batch of rows. Sent through
SQLAlchemy, every row's parameters are built anew from the compiled
statement and passed through each type's processing one by one: more work
than the database's own. A ``DriverStatement`` is the statement compiled
once for the connection's database (the very SQL SQLAlchemy sends,
PostgreSQL's casts included), and binds each row with the bind processors
of the statement's own types, so a value is stored exactly as the ORM
stores it. The rows go out with ``exec_driver_sql``, one ``executemany``
for all of them: unlike the driver's own cursor, it keeps SQLAlchemy's
exception types (a busy database is still an ``OperationalError`` to the
callers that answer it) and notices a connection that was lost.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.engine import Dialect


@dataclass(frozen=True)
class DriverStatement:
    """A statement as the driver takes it: its SQL, and how a row's values (by parameter name) become its parameters."""

    sql: str
    # The parameters' names in the driver's order (a name repeats where the SQL repeats it), or by name.
    names: tuple[str, ...]
    positional: bool
    # (position in ``names``, bind processor) of each parameter whose type converts the value a row gives it.
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    # The columns a Python-side default fills (a check's ``updated_at``): parameter name, default, bind processor.
    defaults: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run the statement once for each of ``rows`` (one ``executemany`` for several) on ``connection``.

        A default is taken once for all the rows, as one moment of one statement.
        """
        filled = {name: _bound(process, default.arg(None) if default.is_callable else default.arg)
                  for name, default, process in self.defaults}
        connection.exec_driver_sql(self.sql, [self._bind({**row, **filled} if filled else row) for row in rows])

    def _bind(self, row: Mapping[str, Any]) -> tuple | dict[str, Any]:
        """``row``'s values as the driver's parameters: a tuple in order, or a dict by name."""
        values = [row[name] for name in self.names]
        for position, process in self.processors:
            values[position] = process(values[position])
        return tuple(values) if self.positional else dict(zip(self.names, values))


def _bound(process: Callable[[Any], Any] | None, value: Any) -> Any:
    """``value`` as ``process`` binds it (None: as it is)."""
    return value if process is None else process(value)


# Kept for each engine's dialect: a process has one or two (tests make many).
@lru_cache(maxsize=64)
def driver_statement(statement: Executable, dialect: Dialect) -> DriverStatement:
    """``statement`` compiled once for ``dialect``, with its types' bind processors and its Python-side defaults."""
    compiled = statement.compile(dialect=dialect)
    binds = compiled.binds

    def processor(name: str) -> Callable[[Any], Any] | None:
        return binds[name].type.dialect_impl(dialect).bind_processor(dialect)

    defaults = [(column.key, column.default) for column in compiled.insert_prefetch] + \
        [(column.key, column.onupdate) for column in compiled.update_prefetch]
    filled = {name for name, _ in defaults}
    names = tuple(compiled.positiontup) if dialect.positional else tuple(binds)
    processors = tuple((position, process) for position, process in
                       ((position, processor(name)) for position, name in enumerate(names) if name not in filled)
                       if process is not None)
    return DriverStatement(compiled.string, names, dialect.positional, processors,
                           tuple((name, default, processor(name)) for name, default in defaults))
