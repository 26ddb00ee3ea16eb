"""Which customers a store's tablets hold. Entering the scope is itself a change, so
a device pulling after its cursor receives a customer whose last edit was long ago."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server.changelog import service as changelog
from server.changelog.models import StoreCustomer
from server.core import lookups
from server.customers.models import Customer


def enter(session: Session, store_id: uuid.UUID, customer: Customer) -> None:
    if lookups.get(session, StoreCustomer, (store_id, customer.id)) is not None:
        return
    lookups.add(session, StoreCustomer(store_id=store_id, customer_id=customer.id))
    changelog.record(session, "customer", customer, store_id=store_id)
