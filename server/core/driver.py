"""Statements run on the driver's own cursor (PostgreSQL, psycopg).

SQLAlchemy builds a statement and compiles it once (`compiled`); running it through
SQLAlchemy then costs more than the database does for the hottest reads: a page of
1,000 changes spent a quarter of its CPU making SQLAlchemy's result rows. `fetch_all`
runs the compiled text on the connection's psycopg cursor and returns psycopg's rows.
Only for statements whose columns need no conversion by SQLAlchemy (ids cast to text
or read as UUIDs, plain numbers and strings) and whose parameters all come from the
caller (a constant is written into the statement: `constant`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

_PLAIN = re.compile(r"[A-Za-z0-9_,|]*")  # names, and the separators of aggregated text


def constant(value: str) -> sa.ColumnElement:
    """A constant string written into the statement, not a parameter (SQLAlchemy would
    make a string compared with a column a parameter of its own, which `fetch_all` is
    not given)."""
    if not _PLAIN.fullmatch(value):
        raise ValueError(f"Not a plain name, to write into SQL as it is: {value!r}")
    return sa.literal_column(f"'{value}'", sa.String)


@functools.cache
def compiled(statement: sa.Executable, dialect: sa.Dialect) -> tuple[str, frozenset[str]]:
    """The statement's text for this dialect, and the names of its parameters."""
    done = statement.compile(dialect=dialect)
    return done.string, frozenset(done.params)


def fetch_all(connection: sa.Connection, statement: sa.Executable, params: dict[str, Any],
              row_factory: Callable | None = None, prepare: bool | None = None) -> list:
    """All rows of the statement, run on `connection`'s psycopg cursor. `prepare=False`
    plans it afresh each time, with its parameters' values (psycopg otherwise prepares a
    statement after 5 runs, and PostgreSQL may keep a generic plan made while a table was
    small). A database error is raised as SQLAlchemy raises one, without the parameters
    (as core.bulk raises its errors: a message is easily logged)."""
    import psycopg  # only on PostgreSQL

    text, _ = compiled(statement, connection.dialect)
    driver = connection.connection.driver_connection
    try:
        with driver.cursor(**({"row_factory": row_factory} if row_factory else {})) as cursor:
            return cursor.execute(text, params, prepare=prepare).fetchall()
    except psycopg.Error as error:
        raise sa.exc.DBAPIError.instance(text, None, error, psycopg.Error) from error
