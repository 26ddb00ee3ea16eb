"""Merging two records of the same person (two stores, two spellings) into the one that
stays: head office's work, in one transaction.

- The duplicate's requests and notes move to the survivor and are sent again (their
  stores' tablets and the CRM see them under the survivor); its follow-ups and the
  contacts made with it move too, so the contact policy counts them for the person,
  and so do the person's privacy requests (an access or erasure asked for stands).
  Every store that held the duplicate holds the survivor.
- Consent: a refusal the duplicate stands on, for a purpose and channel the survivor
  has said nothing about since, is recorded for the survivor (its capture time and
  method kept). A grant is not carried over: the person is asked again rather than
  contacted on a "yes" given to another record.
- The survivor's own values win; a field it lacks is filled from the duplicate.
- The duplicate is left as an empty shell pointing at the survivor (`merged_into_id`;
  its consent events stay with it, the record of what was said), and leaves every copy
  with a tombstone `reason: "merged"` naming `merged_into`: tablets, the CRM feed and
  webhooks (`customer.merged`) re-point. A tablet that was offline and pushes a
  request, note or consent event for it has it recorded for the survivor
  (customers.standing); an edit of it is refused (410 `customer_merged`).

Each domain moves its own rows when it hears `signals.customer_merged` (requests,
notes, follow-ups and contacts, privacy requests, consent); this module does the
customer's part: the fields, the stores' scope, the duplicate's tombstone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog import scope
from server.changelog import service as changelog
from server.changelog.models import Change, StoreCustomer
from server.core import signals
from server.core.actor import Actor
from server.core.errors import Conflict, NotFound, Rejected
from server.core.types import utcnow
from server.core.versioning import assign, check_version
from server.customers import service as customers
from server.customers.models import Customer

FILLED = ("family_name", "email", "phone", "postal_address", "preferences")


@dataclass
class Merged:
    survivor: Customer
    duplicate_id: uuid.UUID
    already: bool = False
    requests: int = 0
    notes: int = 0
    refusals: int = 0
    filled: list[str] = field(default_factory=list)


def merge(session: Session, actor: Actor, duplicate_id: uuid.UUID, survivor_id: uuid.UUID,
          expected_version: int | None = None) -> Merged:
    """Merge the duplicate into the survivor. `expected_version`: the duplicate's version
    the caller saw (If-Match); a record changed since is not merged (412)."""
    if duplicate_id == survivor_id:
        raise Rejected(errors={"into": ["A customer cannot be merged into themselves."]})
    # Both rows locked, in one order: two merges of the same pair cannot interleave.
    found = {c.id: c for c in session.scalars(
        sa.select(Customer).where(Customer.id.in_(sorted((duplicate_id, survivor_id))))
        .order_by(Customer.id).with_for_update())}
    duplicate, survivor = found.get(duplicate_id), found.get(survivor_id)
    if duplicate is None:
        raise NotFound("No such customer.")
    if survivor is None:
        raise Rejected(errors={"into": ["No such customer."]})
    if duplicate.merged_into_id == survivor.id:
        return Merged(survivor, duplicate.id, already=True)
    check_version(duplicate, expected_version)
    _check(duplicate, "id")
    _check(survivor, "into")
    result = Merged(survivor, duplicate.id)
    _fill(session, actor, survivor, duplicate, result)
    _hold_where_held(session, duplicate, survivor)
    signals.customer_merged.send(duplicate, into=survivor, session=session, actor=actor,
                                 result=result)
    # Earlier merges into the duplicate now point at the survivor: one step, always.
    session.execute(sa.update(Customer).where(Customer.merged_into_id == duplicate.id)
                    .values(merged_into_id=survivor.id)
                    .execution_options(synchronize_session="fetch"))
    # The duplicate's old copies go (its requests and notes are logged again, for the
    # survivor); its tombstone, naming the survivor, replaces them (its tablets dropped
    # their copies of its consent events, and privacy cleared it, on the signal).
    session.execute(sa.delete(Change).where(Change.customer_id == duplicate.id)
                    .execution_options(synchronize_session=False))
    duplicate.merged_into_id, duplicate.merged_at = survivor.id, utcnow()
    access_log.changed(session, actor, "merge", [duplicate.id, survivor.id], action="merge")
    session.flush()
    changelog.record(session, "customer", duplicate, op="delete", reason="merged",
                     body={"merged_into": str(survivor.id)})
    return result


def _check(customer: Customer, name: str) -> None:
    if customer.erased_at is not None:
        raise Rejected(errors={name: ["This customer was erased."]})
    if customer.restricted_at is not None:
        raise Rejected(errors={name: ["Processing of this customer is restricted."]})
    if customer.merged_into_id is not None:
        raise Conflict("This customer was merged into another record already.",
                       errors={name: [f"Merged into {customer.merged_into_id}."]})


def _fill(session: Session, actor: Actor, survivor: Customer, duplicate: Customer,
          result: Merged) -> None:
    fill = {name: getattr(duplicate, name) for name in FILLED
            if not getattr(survivor, name) and getattr(duplicate, name)}
    if fill:
        customers.update(session, actor, survivor.id, fill)
        result.filled = sorted(fill)


def move_records(session: Session, entity: str, model: type, duplicate: Customer,
                 survivor: Customer) -> int:
    """For a `customer_merged` listener: the duplicate's records of `model` move to the
    survivor, each with a new version, and are logged again (their stores' tablets and
    the CRM see them under the survivor). Returns how many moved."""
    records = list(session.scalars(sa.select(model).where(model.customer_id == duplicate.id)))
    for record in records:
        assign(record, {"customer_id": survivor.id})
    session.flush()  # the new customer id, and a version each: tablets update
    for record in records:
        changelog.record(session, entity, record)
    return len(records)


def _hold_where_held(session: Session, duplicate: Customer, survivor: Customer) -> None:
    """Every store that held the duplicate holds the survivor."""
    stores = session.scalars(sa.select(StoreCustomer.store_id).where(
        StoreCustomer.customer_id == duplicate.id))
    for store_id in list(stores):
        scope.enter(session, store_id, survivor)
