"""Many new rows into one table, as cheaply as the database allows.

A sync push of 500 captures writes ~2,000 rows. The ORM's unit of work costs more
than the database does; a Core executemany (pipelined by psycopg) is cheaper, and on
PostgreSQL a COPY cheaper again. A binary COPY is cheaper still for Python than a
text one: each value goes out by its column's binary dumper, where the text format
formats it and psycopg's JSON wrapper calls back into Python for every JSON value.
(The measured figures are in the README's benchmark section.)
Rows are complete: every column given, its model default computed here per row
when the caller left it out, so a COPY stores what an INSERT would have.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core import json

# Below this many rows an INSERT is as cheap as a COPY. (At 20 rows COPY's two round
# trips a table still cost less than a pipelined executemany, which sends and flushes
# a message a row, or one INSERT of arrays, which psycopg dumps as text in Python.)
COPY_FROM = 20


def complete(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """The row with every column: the model's default (scalar or per-row) where not given."""
    row = {}
    for key, default, per_row in _defaults(table):
        if key in values:
            row[key] = values[key]
        else:
            row[key] = default(None) if per_row else default
    return row


@functools.cache
def _defaults(table: sa.Table) -> tuple[tuple[str, Any, bool], ...]:
    return tuple((column.key, None if column.default is None else column.default.arg,
                  column.default is not None and column.default.is_callable)
                 for column in table.columns)


def insert(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert complete rows in the session's transaction (see `insert_all`)."""
    insert_all(session, [(table, rows)])


def insert_all(session: Session, batches: list[tuple[sa.Table, list[dict[str, Any]]]]) -> None:
    """Insert complete rows into each table, in order, in the session's transaction.

    PostgreSQL: a COPY per table from COPY_FROM rows; smaller batches as executemany
    in one pipeline (one round trip for all of them). Elsewhere one executemany per
    table. A database error is raised as SQLAlchemy raises an INSERT's (an
    IntegrityError for a duplicate key)."""
    batches = [(table, rows) for table, rows in batches if rows]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        for table, rows in batches:
            session.execute(sa.insert(table), rows)
        return
    import psycopg  # only on PostgreSQL

    statement = None
    try:
        small = [(t, r) for t, r in batches if len(r) < COPY_FROM]
        if small:
            with connection.connection.driver_connection.pipeline():
                for table, rows in small:
                    statement = _executemany(connection, table, rows)
        for table, rows in batches:
            if len(rows) >= COPY_FROM:
                statement = _copy(connection, table, rows)
    except psycopg.Error as error:
        raise sa.exc.DBAPIError.instance(statement, None, error, psycopg.Error) from error


def _parameters(dialect, table: sa.Table, rows: list[dict[str, Any]], json_as_text=False):
    """The parameters an INSERT would send (JSON serialised, times in UTC, ...); with
    `json_as_text`, JSON values as their text (a binary COPY sends them as text)."""
    binds = _binds(dialect, table, json_as_text)
    for row in rows:
        yield [row[key] if bind is None else bind(row[key]) for key, bind in binds]


@functools.cache
def _binds(dialect, table: sa.Table, json_as_text: bool) -> tuple[tuple[str, Any], ...]:
    """Each column's key and the function that turns a value into its parameter (or None)."""
    return tuple((column.key, _json_text(column.type) if json_as_text and
                  isinstance(column.type, sa.JSON) else
                  column.type.dialect_impl(dialect).bind_processor(dialect))
                 for column in table.columns)


def _json_text(json_type: sa.JSON):
    """A JSON column's value as its JSON text, as SQLAlchemy's JSON type would serialise
    it (None is JSON null unless the type says none_as_null), by the engine's serialiser."""
    def process(value: Any) -> str | None:
        if value is json_type.NULL:
            value = None
        elif isinstance(value, sa.sql.elements.Null) or (value is None
                                                         and json_type.none_as_null):
            return None
        return json.text(value)
    return process


@functools.cache
def _statements(dialect, table: sa.Table) -> tuple[str, str]:
    """The table's INSERT (for executemany) and COPY statements, all columns."""
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(column.name) for column in table.columns)
    marks = ", ".join(["%s"] * len(table.columns))
    target = quote.format_table(table)
    return (f"INSERT INTO {target} ({names}) VALUES ({marks})",  # noqa: S608
            f"COPY {target} ({names}) FROM STDIN (FORMAT BINARY)")


def _executemany(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> str:
    dialect = connection.dialect
    statement = _statements(dialect, table)[0]
    with connection.connection.driver_connection.cursor() as cursor:
        cursor.executemany(statement, list(_parameters(dialect, table, rows)))
    return statement


def _copy(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> str:
    dialect = connection.dialect
    statement = _statements(dialect, table)[1]
    types = _copy_types(connection, table)
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(statement) as copy:
        copy.set_types(types)
        for values in _parameters(dialect, table, rows, json_as_text=True):
            copy.write_row(values)
    return statement


_TEXT, _JSON = 25, 114  # PostgreSQL's type ids (fixed for built-in types)
# Types whose binary form psycopg writes from the Python values our rows hold: bool,
# int8/2/4, text, json (sent as text), float8, timestamp(tz), date, varchar, numeric, uuid,
# uuid[] (a list of UUIDs).
_COPYABLE = frozenset({16, 20, 21, 23, 25, 114, 701, 1043, 1082, 1114, 1184, 1700, 2950,
                       2951})
_COPY_TYPES: dict[str, list[int]] = {}


def _copy_types(connection: sa.Connection, table: sa.Table) -> list[int]:
    """The type of each column as the binary COPY writes it: the column's own type, read
    from the database once, but JSON as text (the binary form of json is its text;
    psycopg's json dumper would write a str as a JSON string)."""
    if table.fullname not in _COPY_TYPES:
        found = dict(connection.execute(sa.text(
            "SELECT attname, atttypid FROM pg_attribute "
            "WHERE attrelid = CAST(:table AS regclass) AND attnum > 0 AND NOT attisdropped"),
            {"table": table.fullname}).all())
        odd = [column.name for column in table.columns if found[column.name] not in _COPYABLE]
        if odd:  # jsonb, arrays, enums…: add the type here once its binary form is checked
            raise NotImplementedError(f"Binary COPY of {table.fullname}.{odd[0]} "
                                      f"(type id {found[odd[0]]}) is not set up.")
        _COPY_TYPES[table.fullname] = [
            _TEXT if found[column.name] == _JSON else found[column.name]
            for column in table.columns]
    return _COPY_TYPES[table.fullname]
