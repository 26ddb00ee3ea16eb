"""Which customers a store's tablets hold: those captured there (a new customer, a
request, a note) and those an assistant picked there after a lookup. Entering the
scope is itself a change, so a device pulling after its cursor receives a customer
whose last edit was long ago (and their consent events), and every later edit."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.changelog import service as changelog
from server.changelog.models import StoreCustomer
from server.consent.models import ConsentEvent
from server.core import lookups
from server.core.actor import Actor
from server.core.errors import Rejected
from server.customers import standing
from server.customers.models import Customer


def enter(session: Session, store_id: uuid.UUID, customer: Customer, *,
          new: bool = False) -> None:
    """`new`: the customer was created in this transaction, so has no consent yet."""
    if lookups.get(session, StoreCustomer, (store_id, customer.id)) is not None:
        return
    lookups.add(session, StoreCustomer(store_id=store_id, customer_id=customer.id))
    changelog.record(session, "customer", customer, store_id=store_id, new=new)
    if new:
        return
    held = sa.select(ConsentEvent).where(ConsentEvent.customer_id == customer.id)
    for event in session.scalars(held):
        changelog.record(session, "consent", event, store_id=store_id)


def hold(session: Session, actor: Actor, customer_ids: list[uuid.UUID]) -> int:
    """Keep these customers on this store's tablets (after a lookup at the counter)."""
    lookups.prefetch(session, Customer, customer_ids)
    missing = [str(i) for i in customer_ids if lookups.get(session, Customer, i) is None]
    if missing:
        raise Rejected(errors={"customer_ids": [f"No such customer: {', '.join(missing)}."]})
    for customer_id in customer_ids:
        customer = standing.surviving(session, lookups.get(session, Customer, customer_id))
        enter(session, actor.store_id, customer)
    return len(customer_ids)
