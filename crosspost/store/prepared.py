"""Statements compiled once for a dialect and run on the driver's cursor.

The publishing workers run the same three statements for every post
(:mod:`crosspost.store.handover`). Through a ``Session`` their transaction cost
0.67 ms of CPU, of which SQLite's own work was 0.13 ms: the rest was
SQLAlchemy's execution context, parameter processing and ORM loading. A :class:`Prepared`
statement is compiled once with the engine's dialect, and its parameters and
result columns go through the type processors SQLAlchemy itself uses, so what
is written and compared is what the ORM would write. It runs on the cursor of a
Core transaction: the transaction still begins (``BEGIN IMMEDIATE`` on SQLite)
and commits through the engine, with its events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Select, UpdateBase
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql.elements import BindParameter

__all__ = ["Prepared", "cursor_of"]

Processor = Callable[[Any], Any]


@contextmanager
def cursor_of(connection: Connection) -> Iterator[DBAPICursor]:
    """A cursor of ``connection``'s driver connection, closed after use."""
    cursor = connection.connection.cursor()
    try:
        yield cursor
    finally:
        cursor.close()


class Prepared:
    """One statement with named bind parameters, compiled once for ``dialect``.

    Args:
        statement: an update or a select; its ``bindparam`` names are the keys of
            the values passed to :meth:`run`, every other parameter is fixed.
        dialect: the engine's dialect.
    """

    def __init__(self, statement: UpdateBase | Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        binds = compiled.binds
        required = {name for name, bind in binds.items() if bind.required}
        params = compiled.construct_params(dict.fromkeys(required))
        self.sql = compiled.string
        self._order: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else None
        )
        self._processors = {
            name: processor
            for name in params
            if (processor := _bind_processor(binds[name], dialect)) is not None
        }
        self._fixed = {
            name: self._bound(name, value) for name, value in params.items() if name not in required
        }
        #: The parameters taken from the values given, each with its type's processor.
        self._given = tuple((name, self._processors.get(name)) for name in sorted(required))
        self._dialect = dialect
        self._columns = list(statement.selected_columns) if isinstance(statement, Select) else []
        self._names = tuple(str(column.key) for column in self._columns)
        #: Found at the first row: a driver's processors depend on the types it reports.
        self._results: tuple[Processor | None, ...] | None = None

    def run(self, cursor: DBAPICursor, values: Mapping[str, object]) -> DBAPICursor:
        """Execute with ``values`` for the named parameters (others in it are not used);
        returns ``cursor``."""
        params = dict(self._fixed)
        for name, process in self._given:
            value = values[name]
            params[name] = value if process is None else process(value)
        if self._order is None:
            cursor.execute(self.sql, params)
        else:
            cursor.execute(self.sql, tuple(params[name] for name in self._order))
        return cursor

    def first(self, cursor: DBAPICursor, values: Mapping[str, object]) -> dict[str, Any] | None:
        """The first row a select gives, by column key, its values as the ORM reads them."""
        row: Sequence[Any] | None = self.run(cursor, values).fetchone()
        if row is None:
            return None
        results = self._results
        if results is None:
            results = self._results = self._result_processors(cursor)
        return {
            name: value if process is None else process(value)
            for name, process, value in zip(self._names, results, row, strict=True)
        }

    def _result_processors(self, cursor: DBAPICursor) -> tuple[Processor | None, ...]:
        dialect, described = self._dialect, cursor.description
        assert described is not None, "a select describes its columns"
        return tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, description[1])
            for column, description in zip(self._columns, described, strict=True)
        )

    def _bound(self, name: str, value: object) -> object:
        process = self._processors.get(name)
        return value if process is None else process(value)


def _bind_processor(bind: BindParameter[Any], dialect: Dialect) -> Processor | None:
    return bind.type.dialect_impl(dialect).bind_processor(dialect)
