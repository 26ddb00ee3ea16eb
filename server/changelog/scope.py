"""Which customers a store's tablets hold: those captured there (a new customer, a
request, a note) and those an assistant picked there after a lookup. Entering the
scope is itself a change, so a device pulling after its cursor receives a customer
whose last edit was long ago (and the records that follow them: their consent
events), and every later edit. The scope's table is StoreCustomer (changelog.models).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy.orm import Session

from server.changelog import service as changelog
from server.changelog.models import StoreCustomer
from server.core import lookups

# The records of a customer that enter a store's scope with them: entity → the records
# (consent registers its events at app start).
_FOLLOWERS: dict[str, Callable[[Session, uuid.UUID], Iterable[Any]]] = {}


def followed_by(entity: str, records: Callable[[Session, uuid.UUID], Iterable[Any]]) -> None:
    """`records(session, customer_id)` enter a store's scope with their customer."""
    _FOLLOWERS[entity] = records


def enter(session: Session, store_id: uuid.UUID, customer: Any, *,
          new: bool = False) -> None:
    """`customer` (the model) enters the store's scope, if not already in it. `new`: the
    customer was created in this transaction, so nothing follows them yet."""
    if lookups.get(session, StoreCustomer, (store_id, customer.id)) is not None:
        return
    lookups.add(session, StoreCustomer(store_id=store_id, customer_id=customer.id))
    changelog.record(session, "customer", customer, store_id=store_id, new=new)
    if new:
        return
    for entity, records in _FOLLOWERS.items():
        for record in records(session, customer.id):
            changelog.record(session, entity, record, store_id=store_id)
