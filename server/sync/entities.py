"""What sync may do to each entity, by the same services the REST API uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from server.consent import service as consent
from server.consent.models import ConsentEvent
from server.consent.schemas import ConsentCreate, ConsentOut
from server.customer_requests import service as customer_requests
from server.customer_requests.models import CustomerRequest
from server.customer_requests.schemas import RequestCreate, RequestOut, RequestUpdate
from server.customers import service as customers
from server.customers.models import Customer
from server.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from server.notes import service as notes
from server.notes.models import Note
from server.notes.schemas import NoteCreate, NoteOut, NoteUpdate


@dataclass(frozen=True)
class EntityRules:
    model: type
    create_schema: Schema
    update_schema: Schema | None
    out_schema: Schema
    create: Callable
    update: Callable | None
    get: Callable
    delete: Callable | None = None

    @property
    def append_only(self) -> bool:
        """Records of this entity are only ever appended (`op: append`), never edited."""
        return self.update is None


def _get_consent(session, actor, event_id):
    return session.get(ConsentEvent, event_id)


def _update_note(session, actor, note_id, changes: dict[str, Any]):
    return notes.update(session, actor, note_id, changes["body"])


RULES: dict[str, EntityRules] = {
    "customer": EntityRules(Customer, CustomerCreate(), CustomerUpdate(), CustomerOut(),
                            customers.create, customers.update, customers.get),
    "request": EntityRules(CustomerRequest, RequestCreate(), RequestUpdate(), RequestOut(),
                           customer_requests.create, customer_requests.update,
                           customer_requests.get),
    "note": EntityRules(Note, NoteCreate(), NoteUpdate(), NoteOut(),
                        notes.create, _update_note, notes.get, notes.delete),
    "consent": EntityRules(ConsentEvent, ConsentCreate(), None, ConsentOut(),
                           consent.append, None, _get_consent),
}
