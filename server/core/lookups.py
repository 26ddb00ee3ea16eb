"""Rows by primary key, with as few queries as a batch needs.

A sync push of 500 captures would otherwise ask the database several times per
capture "does this exist?". `prefetch` answers for the whole batch in a few
queries and remembers both the rows it found (held, so the session's weak
identity map cannot drop them) and the keys it did not; `get` then answers from
memory, and `add` keeps the memory true as the batch creates rows. Without a
prefetch, `get` is plain `session.get`.

Most of a push is new records: `prefetch_existing` asks once, for several tables,
which of the keys exist at all, and loads only the rows of those that do.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core import driver
from server.core.uuid_text import id_array, id_table

KNOWN = "blackbook.lookups"
ADDED = "blackbook.lookups.added"


def _key(obj: Any) -> Any:
    values = obj.__mapper__.primary_key_from_instance(obj)
    return values[0] if len(values) == 1 else tuple(values)


def prefetch(session: Session, model: type, keys: Iterable[Any],
             where: sa.ColumnElement | None = None) -> None:
    """Load the rows with these primary keys (a composite key: pass `where` to narrow)."""
    known = session.info.setdefault(KNOWN, {})
    todo = sorted({key for key in keys if (model, key) not in known}, key=str)
    columns = model.__mapper__.primary_key
    for start in range(0, len(todo), 500):
        chunk = todo[start:start + 500]
        if len(columns) == 1:
            query = sa.select(model).where(columns[0].in_(chunk))
        else:
            query = sa.select(model).where(columns[-1].in_([k[-1] for k in chunk]), where)
        for row in session.scalars(query):
            known[(model, _key(row))] = row
    for key in todo:
        known.setdefault((model, key), None)


def prefetch_existing(session: Session, wanted: list[tuple[type, Iterable[Any]]]) -> None:
    """`prefetch` for several models with a one-column UUID key: one query
    (a UNION ALL of keys) finds the keys that exist, then one query per model loads the
    rows of those that do. A batch of new records costs one query, not one per model."""
    known = session.info.setdefault(KNOWN, {})
    todo = [(model, list({k for k in keys if (model, k) not in known})) for model, keys in wanted]
    todo = [(model, keys) for model, keys in todo if keys]
    if not todo:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # Planned afresh each time (prepare=False): a plan PostgreSQL kept from when the
        # tables were small scans them, at a cost that grows with the tables.
        rows = driver.fetch_all(connection, _which_exist_among(tuple(m for m, _ in todo)), {
            f"keys_{which}": id_array(map(str, keys)) for which, (_, keys) in enumerate(todo)},
            prepare=False)
    else:
        rows = connection.execute(sa.union_all(*_which_exist_in(todo)))
    found = defaultdict(list)
    for which, key in rows:
        found[which].append(key)
    for which, (model, keys) in enumerate(todo):
        if found[which]:
            prefetch(session, model, found[which])
        for key in keys:
            known.setdefault((model, key), None)


def _exists(which: int, model: type) -> tuple[sa.Select, sa.Column]:
    [column] = model.__mapper__.primary_key
    return sa.select(sa.literal_column(str(which)).label("which"), column.label("key")), column


@functools.cache
def _which_exist_among(models: tuple[type, ...]) -> sa.CompoundSelect:
    """PostgreSQL, built once per list of models: each model's keys (parameter keys_<n>,
    an id_array text) joined as a table. Whatever plan a fresh table's missing statistics
    bring (a scan, not the key's index), that stays linear, where `key = ANY (500 keys)`
    on a scan compares every row with every key."""
    selects = []
    for which, model in enumerate(models):
        select, column = _exists(which, model)
        given = id_table(f"keys_{which}")
        selects.append(select.select_from(given).join(model, column == given.c.id))
    return sa.union_all(*selects)


def _which_exist_in(todo: list[tuple[type, list[Any]]]) -> list[sa.Select]:
    """Elsewhere: IN lists of at most 500 keys."""
    selects = []
    for which, (model, keys) in enumerate(todo):
        select, column = _exists(which, model)
        selects += [select.where(column.in_(keys[start:start + 500]))
                    for start in range(0, len(keys), 500)]
    return selects


def remember(session: Session, model: type, keys: Iterable[Any], rows: Iterable[Any]) -> None:
    """What a query of the caller's own found for these keys: the rows (as `prefetch`
    holds them), and every other key absent."""
    known = session.info.setdefault(KNOWN, {})
    for row in rows:
        known[(model, _key(row))] = row
    for key in keys:
        known.setdefault((model, key), None)


def get(session: Session, model: type, key: Any) -> Any:
    known = session.info.get(KNOWN)
    if known is not None and (model, key) in known:
        return known[(model, key)]
    return session.get(model, key)


def add(session: Session, obj: Any) -> None:
    session.add(obj)
    session.info[ADDED] = session.info.get(ADDED, 0) + 1
    known = session.info.get(KNOWN)
    if known is not None:
        known[(type(obj), _key(obj))] = obj


def remove(session: Session, obj: Any) -> None:
    session.delete(obj)
    known = session.info.get(KNOWN)
    if known is not None:
        known[(type(obj), _key(obj))] = None


def added(session: Session) -> int:
    """How many rows `add` has put in this session: a cheap "did this step write?"."""
    return session.info.get(ADDED, 0)


def written(session: Session, model: type, keys: Iterable[Any]) -> None:
    """These rows were written around the ORM (bulk inserts): forget what was known of
    them (absent, when prefetched), so they are read from the database from now on."""
    known = session.info.get(KNOWN)
    if known is not None:
        for key in keys:
            known.pop((model, key), None)


def forget(session: Session) -> None:
    """Drop the memory (after a rollback it may describe rows that are gone)."""
    session.info.pop(KNOWN, None)
