"""Ids read and sent as text on the hot read paths (a device's pull, the CRM feed).

A page names a thousand records. PostgreSQL printing their ids costs nothing, while
making a uuid.UUID of each only to print it again (and hash it, and dump it back
into a query parameter) was a third of a page's Python. So a page reads ids as text
(`uuid_text`), keys its lookups by that text, and sends them back as one text
parameter (`among_ids`, `id_array`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement


class uuid_text(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """A UUID column read as its text (8-4-4-4-12), printed by PostgreSQL."""

    type = sa.Uuid(as_uuid=False)  # elsewhere (stored as hex), Python formats it
    name = "uuid_text"
    inherit_cache = True


@compiles(uuid_text)
def _uuid_as_stored(element: uuid_text, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(uuid_text, "postgresql")
def _uuid_cast_to_text(element: uuid_text, compiler, **kw) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS TEXT)"


def among_ids(session: Session, column: sa.ColumnElement,
              ids: Iterable[str]) -> sa.ColumnElement:
    """`column IN ids`, for the ids a page read as text (uuid_text). On PostgreSQL one
    text parameter cast to uuid[]: no list of 500 parameters, and no 500 UUIDs to make
    and dump. Elsewhere a plain IN of UUIDs."""
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(uuid_array(sa.literal(id_array(ids), sa.Text)))
    return column.in_([uuid.UUID(text) for text in ids])


def uuid_array(text: sa.ColumnElement) -> sa.ColumnElement:
    """PostgreSQL: an `id_array` text (a literal or a bound parameter) as a uuid[]."""
    return sa.cast(text, postgresql.ARRAY(sa.Uuid))


def id_table(parameter: str, name: str | None = None) -> sa.TableValuedAlias:
    """PostgreSQL: the ids of the `id_array` text given as `parameter`, as a table of one
    column, `id` (to join, or to probe id by id), for statements built once."""
    return (sa.func.unnest(uuid_array(sa.bindparam(parameter, type_=sa.Text)))
            .table_valued("id").render_derived(name=name))


def id_array(ids: Iterable[str]) -> str:
    """PostgreSQL's text for an array of ids (each a UUID's text: nothing to quote)."""
    return "{" + ",".join(ids) + "}"


def list_holds(session: Session, column: sa.ColumnElement, value: uuid.UUID) -> sa.ColumnElement:
    """`value` is among the ids of a list column (a uuid[] on PostgreSQL, served by a
    GIN index; elsewhere a JSON list of their text)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.contains([value])
    listed = sa.func.json_each(column).table_valued("value")
    return sa.exists().where(listed.c.value == str(value))
