"""The row locks a push takes first, in one global order, so that concurrent pushes
of the same records wait for each other instead of deadlocking.

PostgreSQL locks a row when it is written (an UPDATE), when it is read FOR UPDATE (a
consent event orders appends by its customer's row) and, more weakly, when a foreign
key to it is checked (a new request locks its customer FOR KEY SHARE). Two pushes that
write the same rows in different orders deadlock, and PostgreSQL aborts one of them.
Here a push locks every existing row it may write before it writes anything, in the
order customers → requests → notes, each by id; the change counter comes last (at
commit, changelog.service). A push waiting for a row therefore holds no row that the
holder still needs: no cycle can form.

The lock is FOR NO KEY UPDATE, the one an UPDATE takes itself: new captures' foreign-key
checks on the same customers go on. The rows are read again as they are locked, so the
push decides its conflicts on the latest committed versions. A new record's customer
is locked only when the push may bring them into its store's scope (a row inserted in
the scope table), so the bulk of captures takes no extra lock. On SQLite writers queue
for the whole database (BEGIN IMMEDIATE): nothing to do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.changelog.models import StoreCustomer
from server.core import lookups
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.notes.models import Note

# The one order (customers first: requests and notes point at them).
_ORDER = (Customer, CustomerRequest, Note)
_BY_ENTITY = {"customer": Customer, "request": CustomerRequest, "note": Note}


def take(session: Session, store_id: uuid.UUID | None, mutations: list[dict[str, Any]]) -> None:
    """Lock the existing rows these mutations may write, in the global order."""
    if session.get_bind().dialect.name != "postgresql":
        return
    wanted: dict[type, set[uuid.UUID]] = {model: set() for model in _ORDER}
    for mutation in mutations:
        for model, record_id in _rows_written(session, store_id, mutation):
            wanted[model].add(record_id)
    for model in _ORDER:
        if wanted[model]:
            session.execute(
                sa.select(model).where(model.id.in_(sorted(wanted[model])))
                .order_by(model.id).with_for_update(key_share=True)
                .execution_options(populate_existing=True)).all()


def _rows_written(session: Session, store_id: uuid.UUID | None,
                  mutation: dict[str, Any]) -> Iterable[tuple[type, uuid.UUID]]:
    entity = mutation["entity"]
    model = _BY_ENTITY.get(entity)
    if model is not None and lookups.get(session, model, mutation["id"]) is not None:
        yield model, mutation["id"]  # an edit (or a delete) of an existing record
    customer_id = _uuid(mutation["fields"].get("customer_id"))
    if customer_id is None:
        return
    if entity == "consent" or lookups.get(session, StoreCustomer,
                                          (store_id, customer_id)) is None:
        yield Customer, customer_id  # its events are ordered, or it enters the scope


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
