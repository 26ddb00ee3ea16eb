"""The access log: every read, search, export and change of a customer's data, by key.

A read is logged on its own connection, in a transaction of its own: the request's
read transaction stays a reader (on SQLite, turning a reader into a writer can fail
when another writer got in first), and a read is logged even if nothing else happens.
A change is logged in the change's own transaction, so both or neither exist.

A page of the CRM feed touches ~500 customers: on PostgreSQL their rows go in by one
INSERT … SELECT over the array of their ids, the database drawing each row's random
digits. Python builds and sends no row and no UUID at all, where a COPY of
Python-built rows took 13 ms and an executemany INSERT 25 ms. Ids are time-ordered
(core.types.ordered_id, UUID version 7): each row's key goes at the end of the primary
key's index. With random ids, each of the 500 rows touched a random page of that
index (mostly uncached, and a full-page image in the WAL after each checkpoint): on a
log of 1.3 M rows a page's insert wrote 2.4 MB of WAL, now 0.16 MB. Its ~11 ms are now
mostly the (customer_id, at) index's: one random page per customer.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core import paging
from server.core.actor import Actor
from server.core.types import millis, ordered_id, ordered_id_prefix, utcnow
from server.core.uuid_text import id_array, uuid_array
from server.customers import service as customers
from server.privacy.models import AccessEntry

ACTIONS = ("read", "search", "export", "change", "erase")


def _rows(actor: Actor, action: str, what: str,
          customer_ids: Iterable[uuid.UUID | str]) -> list[dict[str, Any]]:
    now = utcnow()
    at_ms = millis(now)
    return [{"id": ordered_id(at_ms), "customer_id": customer_id, "action": action, "what": what,
             "scope": actor.scope, "key_id": actor.key_id, "store_id": actor.store_id,
             "device_id": actor.device_id, "at": now}
            for customer_id in dict.fromkeys(_as_uuid(c) for c in customer_ids if c is not None)]


def _as_uuid(customer_id: uuid.UUID | str) -> uuid.UUID:
    return uuid.UUID(customer_id) if isinstance(customer_id, str) else customer_id


def read(session: Session, actor: Actor, action: str, what: str,
         customer_ids: Iterable[uuid.UUID | str]) -> None:
    """Log reads (read, search, export) on a connection of their own: one row per
    customer. Ids may be UUIDs or their text (a page of changes reads them as text)."""
    ids = [c for c in customer_ids if c is not None]
    if not ids:
        return
    with session.get_bind().begin() as connection:
        if connection.dialect.name == "postgresql":
            now = utcnow()
            connection.execute(_insert_for_each(), {
                "ids": id_array(dict.fromkeys(str(c) for c in ids)), "action": action,
                "what": what, "scope": actor.scope, "key_id": actor.key_id,
                "store_id": actor.store_id, "device_id": actor.device_id, "at": now,
                "id_prefix": ordered_id_prefix(millis(now))})
        else:
            connection.execute(sa.insert(AccessEntry), _rows(actor, action, what, ids))


@functools.cache
def _insert_for_each() -> sa.Insert:
    """PostgreSQL: one row per customer, made by the database from one array (:ids, the
    text of a uuid[]: no UUID objects to make or dump). Each id is :id_prefix (the
    time and version of an ordered_id) and the last 19 hex digits of a random UUID
    (its variant and 74 random bits). Built once, run with parameters."""
    entry = AccessEntry.__table__.c
    ids = uuid_array(sa.bindparam("ids", type_=sa.Text))
    customers = sa.func.unnest(ids).table_valued("customer_id").render_derived()
    random_hex = sa.func.replace(sa.cast(sa.func.gen_random_uuid(), sa.Text), "-", "")
    ordered = sa.cast(sa.bindparam("id_prefix", type_=sa.Text) + sa.func.substr(random_hex, 14),
                      sa.Uuid)
    values = {entry.id: ordered, entry.customer_id: customers.c.customer_id}
    values |= {column: sa.bindparam(column.name, type_=column.type) for column in (
        entry.action, entry.what, entry.scope, entry.key_id, entry.store_id, entry.device_id,
        entry.at)}
    return sa.insert(AccessEntry).from_select(list(values), sa.select(*values.values()))


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


def for_customer(session: Session, actor: Actor, customer_id: uuid.UUID, limit: int,
                 after: str | None) -> tuple[list[AccessEntry], str | None]:
    """Newest first."""
    customers.get(session, actor, customer_id)
    query = sa.select(AccessEntry).where(AccessEntry.customer_id == customer_id)
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(AccessEntry.at, AccessEntry.id) < tuple(last))
    rows = list(session.scalars(query.order_by(AccessEntry.at.desc(), AccessEntry.id.desc())
                                .limit(limit + 1)))
    return paging.page(rows, limit, lambda e: [e.at.isoformat(), str(e.id)])
