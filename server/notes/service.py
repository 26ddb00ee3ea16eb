"""The rules for notes: store-bound, scanned, and sensitive ones kept from the CRM."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog import scope
from server.changelog import service as changelog
from server.core import lookups, paging, versioning
from server.core.actor import Actor
from server.core.errors import AlreadyExists, NotFound, Rejected
from server.core.versioning import check_version
from server.customer_requests.models import CustomerRequest
from server.customers import merge as merging
from server.customers import service as customers
from server.customers import standing
from server.customers.models import Customer
from server.notes import sensitive
from server.notes.models import Note

# Audiences that may hold special-category text: the store that wrote it, and admins.
MAY_READ_SENSITIVE = frozenset({"tablet", "admin"})


# How a category reads in the warning the associate sees.
SAID = {"identifiers": "a card or ID number", "sexual_orientation": "sexual orientation"}


def _scan(note: Note) -> None:
    note.sensitive_categories = sensitive.categories_in(note.body)
    note.sensitive = bool(note.sensitive_categories)
    said = ", ".join(SAID.get(c, c) for c in note.sensitive_categories)
    note.warnings = [{
        "code": "sensitive_content",
        "categories": note.sensitive_categories,
        "message": f"This note seems to mention {said}. It will never reach marketing "
                   "systems; consider rephrasing.",
    }] if note.sensitive else []


def rescan(session: Session, batch: int = 500) -> tuple[int, int]:
    """Scan every stored note again (after the scanner or its lexicon changed). A note
    whose flags change is logged as changed, so the CRM feed withdraws one found
    sensitive now. Returns (notes scanned, notes whose flags changed)."""
    scanned = changed = 0
    last = None
    while True:
        query = sa.select(Note).order_by(Note.id).limit(batch)
        if last is not None:
            query = query.where(Note.id > last)
        notes = list(session.scalars(query))
        if not notes:
            return scanned, changed
        for note in notes:
            before = (note.sensitive, list(note.sensitive_categories or []))
            _scan(note)
            if (note.sensitive, note.sensitive_categories) != before:
                session.flush()  # a new version of the note
                changelog.record(session, "note", note)
                changed += 1
        scanned += len(notes)
        last = notes[-1].id
        session.commit()


def _visible(actor: Actor, note: Note) -> bool:
    if not actor.may_reach_store(note.store_id):
        return False
    return not note.sensitive or actor.scope in MAY_READ_SENSITIVE


def create(session: Session, actor: Actor, data: dict[str, Any]) -> Note:
    data = dict(data)
    note_id = data.pop("id", None) or uuid.uuid4()
    if lookups.get(session, Note, note_id) is not None:
        raise AlreadyExists("A note with this id exists already.", id=str(note_id))
    customer = lookups.get(session, Customer, data["customer_id"])
    if customer is None:
        raise Rejected(errors={"customer_id": ["No such customer."]})
    customer = customers.require_live(standing.surviving(session, customer))
    data["customer_id"] = customer.id
    store_id = actor.store_id
    if data.get("request_id"):
        request = lookups.get(session, CustomerRequest, data["request_id"])
        if request is None or request.customer_id != data["customer_id"] \
                or not actor.may_reach_store(request.store_id):
            raise Rejected(errors={"request_id": ["No such request for this customer."]})
        store_id = request.store_id
    if store_id is None:
        raise Rejected(errors={"request_id": ["An admin note must belong to a request."]})
    note = Note(id=note_id, store_id=store_id, **data)
    _scan(note)
    lookups.add(session, note)
    changelog.record(session, "note", note, new=True)
    scope.enter(session, store_id, customer)
    return note


def get(session: Session, actor: Actor, note_id: uuid.UUID) -> Note:
    note = lookups.get(session, Note, note_id)
    if note is None or not _visible(actor, note):
        raise NotFound("No such note.")
    return note


def find(session: Session, actor: Actor, args: dict[str, Any], limit: int,
         after: str | None) -> tuple[list[Note], str | None]:
    """Notes in capture order; tablets see their store's, the CRM never sees sensitive ones."""
    query = sa.select(Note)
    if actor.is_tablet:
        query = query.where(Note.store_id == actor.store_id)
    if actor.scope not in MAY_READ_SENSITIVE:
        query = query.where(Note.sensitive.is_(False))
    for field in ("customer_id", "request_id"):
        if args.get(field):
            query = query.where(getattr(Note, field) == args[field])
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(Note.created_at, Note.id) > tuple(last))
    rows = list(session.scalars(query.order_by(Note.created_at, Note.id).limit(limit + 1)))
    return paging.page(rows, limit, lambda n: [n.created_at.isoformat(), str(n.id)])


def update(session: Session, actor: Actor, note_id: uuid.UUID, body: str,
           expected_version: int | None = None) -> Note:
    note = get(session, actor, note_id)
    check_version(note, expected_version)
    versioning.assign(note, {"body": body})
    _scan(note)
    session.flush()
    changelog.record(session, "note", note)
    return note


def delete(session: Session, actor: Actor, note_id: uuid.UUID,
           expected_version: int | None = None) -> None:
    """Delete a note; tablets learn of it through a tombstone in the change log."""
    note = get(session, actor, note_id)
    check_version(note, expected_version)
    changelog.record(session, "note", note, op="delete", reason="deleted")
    lookups.remove(session, note)
    session.flush()


def move_to_survivor(duplicate: Any, *, into: Any, session: Session, result: Any,
                     **_: Any) -> None:
    """On `customer_merged`: the duplicate's notes move to the survivor and are sent
    again (their stores' tablets and the CRM see them under the survivor)."""
    result.notes = merging.move_records(session, "note", Note, duplicate, into)


# The API's ways in: the same rules, each read or change logged (audit.access_log).
search = access_log.logs_read("search", "notes",
                             lambda page, *_: (note.customer_id for note in page[0]))(find)
show = access_log.logs_read("read", "note", lambda note, *_: [note.customer_id])(get)
add = access_log.logs_change("note", lambda note, *_: [note.customer_id])(create)
amend = access_log.logs_change("note", lambda note, *_: [note.customer_id])(update)


def remove(session: Session, actor: Actor, note_id: uuid.UUID,
           expected_version: int | None = None) -> None:
    """`delete`, logged as a change of the customer the note was about."""
    customer_id = get(session, actor, note_id).customer_id
    delete(session, actor, note_id, expected_version)
    access_log.changed(session, actor, "note deleted", [customer_id])
