"""Erasure: in one transaction, every copy of a customer's personal data goes.

Driven by the data map (privacy.datamap): each customer column marked `clear` is set
to its erased value, each `delete_row` table loses the customer's rows. Around that,
the domain's own news so every downstream copy follows:

- the customer's old copies in the change log go, and the erasure's changes replace
  them: a tombstone for the customer (`reason: "erased"`) reaches every tablet that
  held them and the CRM feed; each note's tombstone reaches its store and the feed;
  each request, kept for demand statistics without its free text, is sent again;
  tablets also drop their copies of the customer's consent events;
- the email and phone go on the suppression list as digests, so the person is never
  contacted again; pending follow-ups are cancelled;
- the customer record stays as an empty shell marked erased, so a tablet that was
  offline pushing an edit, a request, a note or a grant for them is refused for good
  (a withdrawal is still recorded).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog import service as changelog
from server.changelog.models import Change
from server.consent import service as consent
from server.contact import suppression
from server.contact.models import FollowUp
from server.core.actor import Actor
from server.core.errors import NotFound
from server.core.types import utcnow
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.extensions import db
from server.notes.models import Note
from server.privacy import datamap, propagation


@dataclass
class Erasure:
    customer_id: uuid.UUID
    erased_at: datetime
    already: bool
    notes_deleted: int = 0
    requests_anonymised: int = 0
    suppressed: int = 0


def erase(session: Session, actor: Actor, customer_id: uuid.UUID) -> Erasure:
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound("No such customer.")
    if customer.erased_at is not None:
        return Erasure(customer.id, customer.erased_at, already=True)
    result = Erasure(customer.id, utcnow(), already=False)
    for kind, point in (("email", customer.email), ("phone", customer.phone)):
        if point:
            suppression.add(session, kind, point, "erased")
            result.suppressed += 1
    # Old copies go first; this transaction's own changes are written at commit.
    session.execute(sa.delete(Change).where(Change.customer_id == customer.id)
                    .execution_options(synchronize_session=False))
    notes = list(session.scalars(sa.select(Note).where(Note.customer_id == customer.id)))
    for note in notes:
        changelog.record(session, "note", note, op="delete", reason="erased")
        session.delete(note)
    result.notes_deleted = len(notes)
    requests = list(session.scalars(sa.select(CustomerRequest).where(
        CustomerRequest.customer_id == customer.id)))
    for request in requests:
        clear(request)
    forget_copies_of_requests(session, [request.id for request in requests])
    result.requests_anonymised = len(requests)
    session.execute(sa.update(FollowUp).where(
        FollowUp.customer_id == customer.id, FollowUp.status.in_(("pending", "claimed")))
        .values(status="cancelled", version=FollowUp.version + 1, updated_at=utcnow()))
    clear(customer)
    customer.erased_at = result.erased_at
    access_log.changed(session, actor, "erasure", [customer.id], action="erase")
    propagation.open_for(session, customer.id)
    session.flush()
    for request in requests:
        changelog.record(session, "request", request)
    consent.tablets_forget(session, customer.id, "erased")
    changelog.record(session, "customer", customer, op="delete", reason="erased")
    return result


# Copies of requests' free text kept above the domains (the dashboard's search text):
# each keeper registers at app start how it drops them, in the erasing transaction.
_REQUEST_COPIES: list[Callable[[Session, list[uuid.UUID]], None]] = []


def keeps_copies_of_requests(forget: Callable[[Session, list[uuid.UUID]], None]) -> None:
    """`forget(session, request_ids)` runs wherever erasure or retention clears requests'
    free text, so no copy outlives the request's own. Idempotent."""
    if forget not in _REQUEST_COPIES:
        _REQUEST_COPIES.append(forget)


def forget_copies_of_requests(session: Session, request_ids: list[uuid.UUID]) -> None:
    for forget in _REQUEST_COPIES:
        forget(session, request_ids)


def clear(record) -> None:
    """Set every personal column of this record to its erased value, as the map says."""
    columns = datamap.customer_columns().get(record.__tablename__, {})
    for column, entry in columns.items():
        if entry.erasure == "clear":
            value = entry.erased
            setattr(record, column, dict(value) if isinstance(value, dict) else value)


def clear_merged(duplicate: Customer, **_: Any) -> None:
    """On `customer_merged`: the duplicate stays as an empty shell (its values were
    merged into the survivor first), cleared as the data map says."""
    clear(duplicate)


def still_holding(session: Session, values: list[str]) -> list[tuple[str, str]]:
    """Where any of these strings still appears in a text or JSON column of any table:
    the proof (used by the tests, and by an operator after an erasure)."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, (sa.String, sa.Text, sa.JSON)):
                continue
            text = sa.cast(column, sa.Text)
            for value in values:
                query = sa.select(sa.func.count()).select_from(table).where(
                    text.contains(value, autoescape=True))
                if session.scalar(query):
                    found.append((f"{table.name}.{column.name}", value))
    return found
