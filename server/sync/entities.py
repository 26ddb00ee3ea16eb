"""What sync may do to each entity, by the same services the REST API uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema

from server.customer_requests import service as requests
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
    update_schema: Schema
    out_schema: Schema
    create: Callable
    update: Callable
    get: Callable
    delete: Callable | None = None


def _update_note(session, actor, note_id, changes: dict[str, Any]):
    return notes.update(session, actor, note_id, changes["body"])


RULES: dict[str, EntityRules] = {
    "customer": EntityRules(Customer, CustomerCreate(), CustomerUpdate(), CustomerOut(),
                            customers.create, customers.update, customers.get),
    "request": EntityRules(CustomerRequest, RequestCreate(), RequestUpdate(), RequestOut(),
                           requests.create, requests.update, requests.get),
    "note": EntityRules(Note, NoteCreate(), NoteUpdate(), NoteOut(),
                        notes.create, _update_note, notes.get, notes.delete),
}
