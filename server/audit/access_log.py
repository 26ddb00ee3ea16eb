"""The access log's writer: every read, search, export and change of a customer's data, by key.

A read is logged on its own connection, in a transaction of its own: the request's
read transaction stays a reader (on SQLite, turning a reader into a writer can fail
when another writer got in first), and a read is logged even if nothing else happens.
A change is logged in the change's own transaction, so both or neither exist.

A read of several customers at once is one entry naming them all (`customer_ids`):
a page of the CRM feed or of a device's pull names hundreds. Written as one row per
customer, a page's inserts would touch the (customer_id, at) index once per customer, a
random page each; as one row of a uuid[] they are one insert (the GIN index takes the
ids into its pending list, merged later by vacuum; the README's benchmark section has
the figures). `naming` finds a customer's entries either way.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.models import AccessEntry
from server.core import bulk
from server.core.actor import Actor
from server.core.types import millis, ordered_id, utcnow
from server.core.uuid_text import id_array, list_holds, uuid_array

ACTIONS = ("read", "search", "export", "change", "erase")


def _entry(actor: Actor, action: str, what: str) -> dict[str, Any]:
    now = utcnow()
    return {"id": ordered_id(millis(now)), "action": action, "what": what,
            "scope": actor.scope, "key_id": actor.key_id, "store_id": actor.store_id,
            "device_id": actor.device_id, "at": now}


def _rows(actor: Actor, action: str, what: str,
          customer_ids: Iterable[uuid.UUID | str]) -> list[dict[str, Any]]:
    entry = _entry(actor, action, what)
    at_ms = millis(entry["at"])
    return [bulk.complete(AccessEntry.__table__,
                          entry | {"id": ordered_id(at_ms), "customer_id": customer_id})
            for customer_id in dict.fromkeys(_as_uuid(c) for c in customer_ids if c is not None)]


def _as_uuid(customer_id: uuid.UUID | str) -> uuid.UUID:
    return uuid.UUID(customer_id) if isinstance(customer_id, str) else customer_id


def read(session: Session, actor: Actor, action: str, what: str,
         customer_ids: Iterable[uuid.UUID | str]) -> None:
    """Log a read (read, search, export) on a connection of its own: one entry, naming
    one customer or several. Ids may be UUIDs or their text (a page of changes reads
    them as text)."""
    read_on(session.get_bind(), actor, action, what, customer_ids)


def read_on(engine: sa.Engine, actor: Actor, action: str, what: str,
            customer_ids: Iterable[uuid.UUID | str]) -> None:
    """`read`, given the engine (from a thread other than the request's: core.alongside)."""
    ids = list(dict.fromkeys(str(c) for c in customer_ids if c is not None))
    if not ids:
        return
    entry = _entry(actor, action, what)
    with engine.begin() as connection:
        if len(ids) == 1:
            connection.execute(sa.insert(AccessEntry), entry | {"customer_id": _as_uuid(ids[0])})
        elif connection.dialect.name == "postgresql":
            connection.execute(_insert_several(), entry | {"ids": id_array(ids)})
        else:
            connection.execute(sa.insert(AccessEntry),
                               entry | {"customer_ids": [str(_as_uuid(c)) for c in ids]})


@functools.cache
def _insert_several() -> sa.Insert:
    """PostgreSQL: one entry whose customers are :ids, the text of a uuid[] (no UUID
    objects to make and dump for ~500 ids). Built once, run with parameters."""
    entry = AccessEntry.__table__.c
    values = {column.name: sa.bindparam(column.name, type_=column.type) for column in (
        entry.id, entry.action, entry.what, entry.scope, entry.key_id, entry.store_id,
        entry.device_id, entry.at)}
    return sa.insert(AccessEntry).values(
        values | {"customer_ids": uuid_array(sa.bindparam("ids", type_=sa.Text))})


def naming(session: Session, customer_id: uuid.UUID) -> sa.ColumnElement:
    """The entries that name this customer, alone or among others."""
    return sa.or_(AccessEntry.customer_id == customer_id,
                  list_holds(session, AccessEntry.customer_ids, customer_id))


def changed(session: Session, actor: Actor, what: str,
            customer_ids: Iterable[uuid.UUID], action: str = "change",
            into: list[tuple[sa.Table, list[dict[str, Any]]]] | None = None) -> None:
    """Log a change in the change's own transaction: one row per customer.

    `into`: the (table, rows) batches the caller is about to insert in bulk with the
    change itself (core.bulk.insert_all); the log rows join them, with no statement of
    their own, and so are written, or rolled back, with the change."""
    rows = _rows(actor, action, what, customer_ids)
    if rows and into is not None:
        into.append((AccessEntry.__table__, rows))
    elif rows:
        session.execute(sa.insert(AccessEntry), rows)


# A service's way in for the API: the same function, with its read or change logged here,
# naming the customers it already knows: `customers(result, *args)`, where args are the
# function's own after the session and the actor. The bare function stays for the
# service's other callers (a push logs once per batch, a merge or an erasure its own way).

def logs_read(action: str, what: str, customers: Callable[..., Iterable]) -> Callable:
    """Log the function's result as read (on a connection of its own, as `read`)."""
    def wrap(function: Callable) -> Callable:
        @functools.wraps(function)
        def logged(session: Session, actor: Actor, *args: Any, **kwargs: Any) -> Any:
            result = function(session, actor, *args, **kwargs)
            read(session, actor, action, what, customers(result, *args))
            return result
        return logged
    return wrap


def logs_change(what: str, customers: Callable[..., Iterable],
                action: str = "change") -> Callable:
    """Log the function's result as a change (in its transaction, as `changed`)."""
    def wrap(function: Callable) -> Callable:
        @functools.wraps(function)
        def logged(session: Session, actor: Actor, *args: Any, **kwargs: Any) -> Any:
            result = function(session, actor, *args, **kwargs)
            changed(session, actor, what, customers(result, *args), action=action)
            return result
        return logged
    return wrap
