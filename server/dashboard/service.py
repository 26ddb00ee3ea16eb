"""A request as head office sees it, its status changes, and a store's calls for today.

Every page that shows a customer writes the access log, by user. Notes flagged
sensitive are shown as withheld unless the role may read them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.consent.purposes import REQUEST_UPDATES
from server.contact import service as contact
from server.contact.policy import Context
from server.customer_requests import lifecycle
from server.customer_requests import service as customer_requests
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.dashboard import roles
from server.dashboard.models import User
from server.notes.models import Note
from server.stores.models import Store


@dataclass
class NoteView:
    body: str | None  # None: withheld from this role
    categories: list[str]
    captured_by: str | None
    captured_at: datetime | None


def _request(session: Session, user: User, request_id: uuid.UUID) -> CustomerRequest:
    record = customer_requests.get(session, roles.actor_of(user), request_id)
    roles.require_store(user, record.store_id)
    return record


def _notes(session: Session, user: User, record: CustomerRequest) -> list[NoteView]:
    found = session.scalars(sa.select(Note).where(
        Note.customer_id == record.customer_id, Note.store_id == record.store_id,
        sa.or_(Note.request_id == record.id, Note.request_id.is_(None)))
        .order_by(Note.created_at))
    readable = roles.may_read_sensitive(user)
    return [NoteView(note.body if readable or not note.sensitive else None,
                     list(note.sensitive_categories or ()), note.captured_by, note.captured_at)
            for note in found]


def request_options(session: Session, user: User, customer: Customer,
                    record: CustomerRequest) -> dict[str, Any] | None:
    """How the customer may hear about this request, with every reason (None: erased)."""
    if customer.erased_at is not None:
        return None
    return contact.options(session, roles.actor_of(user), customer.id, REQUEST_UPDATES,
                           Context(request_id=record.id))


def detail(session: Session, user: User, request_id: uuid.UUID) -> dict[str, Any]:
    record = _request(session, user, request_id)
    customer = session.get(Customer, record.customer_id)
    access_log.read(session, roles.actor_of(user), "read", "dashboard request", [customer.id])
    may_change = roles.may_change_status(user)
    return {"record": record, "store": session.get(Store, record.store_id),
            "customer": customer, "notes": _notes(session, user, record),
            "contact": request_options(session, user, customer, record), "may_change": may_change,
            "next_statuses": lifecycle.TRANSITIONS[record.status] if may_change else ()}


def change_status(session: Session, user: User, request_id: uuid.UUID, status: str,
                  reason: str | None, version: int) -> CustomerRequest:
    """The lifecycle's rules and follow-ups, as from a tablet; the caller commits."""
    roles.require_status_change(user)
    record = _request(session, user, request_id)
    actor = roles.actor_of(user)
    changed = customer_requests.transition(session, actor, record.id, status, reason,
                                           user.display_name[:32], version)
    access_log.changed(session, actor, "dashboard request status", [record.customer_id])
    return changed
