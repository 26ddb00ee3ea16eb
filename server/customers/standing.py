"""The record that stands for a customer: itself, or the one it was merged into
(customers.merge). Apart from the service, so that sync's scope, which the service
uses, can ask too."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.core import lookups
from server.customers.models import Customer


def surviving(session: Session, customer: Customer) -> Customer:
    """A request, note or consent event captured for a merged record (a tablet that was
    offline) is recorded for the person, on this one; a hold holds this one."""
    for _ in range(8):  # merges re-point, so this is one step; never a loop
        if customer.merged_into_id is None:
            break
        customer = lookups.get(session, Customer, customer.merged_into_id)
    return customer
