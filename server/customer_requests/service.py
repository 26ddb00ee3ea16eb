"""The rules for requests: store-bound, lifecycle-checked, versioned."""

from __future__ import annotations

import uuid
from datetime import date
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog import bodies, scope
from server.changelog import service as changelog
from server.core import bulk, lookups, paging, signals, versioning
from server.core.actor import Actor
from server.core.errors import AlreadyExists, Conflict, Forbidden, NotFound, Rejected
from server.core.types import utcnow
from server.core.versioning import check_version
from server.core.wording import spoken
from server.customer_requests import history, lifecycle
from server.customer_requests.models import CustomerRequest, StatusChange, opening_step
from server.customers import merge as merging
from server.customers import service as customers
from server.customers import standing
from server.customers.models import Customer
from server.stores.models import Store

_REQUESTS = CustomerRequest.__table__


def _store_for_new_request(session: Session, actor: Actor, store_id: uuid.UUID | None):
    if actor.is_tablet:
        if store_id not in (None, actor.store_id):
            raise Forbidden("A tablet captures requests for its own store only.")
        return actor.store_id
    if store_id is None:
        raise Rejected(errors={"store_id": ["Missing data for required field."]})
    if session.get(Store, store_id) is None:
        raise Rejected(errors={"store_id": ["No such store."]})
    return store_id


def _admit(session: Session, actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """The checks a new request passes before anything is written; its column values."""
    data = dict(data)
    request_id = data.pop("id", None) or uuid.uuid4()
    if lookups.get(session, CustomerRequest, request_id) is not None:
        raise AlreadyExists("A request with this id exists already.", id=str(request_id))
    store_id = _store_for_new_request(session, actor, data.pop("store_id", None))
    customer = lookups.get(session, Customer, data["customer_id"])
    if customer is None:
        raise Rejected(errors={"customer_id": ["No such customer."]})
    customer = customers.require_live(standing.surviving(session, customer))
    return {**data, "customer_id": customer.id, "id": request_id, "store_id": store_id,
            "status": "open", "key_id": actor.key_id}


def create(session: Session, actor: Actor, data: dict[str, Any]) -> CustomerRequest:
    """Capture a request; it starts open, in the capturing device's store."""
    values = _admit(session, actor, data)
    # Its steps start empty (the opening one is read from the request: models.history),
    # and its time is set now, so the change log can write that step before the flush.
    record = CustomerRequest(**values, steps=[], created_at=utcnow())
    lookups.add(session, record)
    _captured(session, record)
    return record


def _captured(session: Session, record: Any, body: dict[str, Any] | None = None) -> None:
    """What follows a new request, however it was written: its change-log entry (`body`
    given when it is a row), and its customer entering the store's scope."""
    changelog.record(session, "request", record, body=body, new=True,
                     history=None if body is None else history.text([opening_step(record)]))
    scope.enter(session, record.store_id, lookups.get(session, Customer, record.customer_id))


class Captures:
    """New requests captured together, for sync's bulk path: `add` is `create` (the same
    checks, log entry and scope) with the request kept as a row, and `insert` writes the
    rows added so far in one go, without the ORM. Call `insert` before anything reads
    those requests, and before the transaction commits."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []

    def add(self, session: Session, actor: Actor, data: dict[str, Any]) -> SimpleNamespace:
        """Capture a request; it starts open, in the capturing device's store."""
        row = bulk.complete(_REQUESTS, _admit(session, actor, data))
        self.requests.append(row)
        record = SimpleNamespace(**row)
        _captured(session, record, body=bodies.of_row("request", row))
        return record

    def insert(self, session: Session, *more: tuple[Any, list[dict[str, Any]]]) -> None:
        """Write the rows added so far, and `more` (table, rows) after them in one go."""
        if self.requests:
            session.flush()  # what they refer to (a customer captured just before)
            bulk.insert_all(session, [(_REQUESTS, self.requests), *more])
            self.requests = []


def get(session: Session, actor: Actor, request_id: uuid.UUID) -> CustomerRequest:
    """A request by id; another store's request does not exist for a tablet."""
    record = lookups.get(session, CustomerRequest, request_id)
    if record is None or not actor.may_reach_store(record.store_id):
        raise NotFound("No such request.")
    return record


def _filters(actor: Actor, args: dict[str, Any]) -> list[sa.ColumnElement]:
    store_id = args.get("store_id")
    if actor.is_tablet:
        if store_id not in (None, actor.store_id):
            raise Forbidden("A tablet lists its own store's requests only.")
        store_id = actor.store_id
    clauses = []
    if store_id:
        clauses.append(CustomerRequest.store_id == store_id)
    if args.get("customer_id"):
        clauses.append(CustomerRequest.customer_id == args["customer_id"])
    if args.get("status"):
        clauses.append(CustomerRequest.status.in_(args["status"]))
    if args.get("type"):
        clauses.append(CustomerRequest.type.in_(args["type"]))
    if args.get("due_before"):
        clauses.append(CustomerRequest.due_date < args["due_before"])
    if args.get("due_after"):
        clauses.append(CustomerRequest.due_date > args["due_after"])
    if args.get("overdue") is not None:
        overdue = sa.and_(CustomerRequest.due_date < date.today(),
                          CustomerRequest.status.not_in(lifecycle.CLOSED))
        clauses.append(overdue if args["overdue"] else sa.not_(overdue))
    return clauses


def find(session: Session, actor: Actor, args: dict[str, Any], limit: int,
         after: str | None) -> tuple[list[CustomerRequest], str | None]:
    """Requests matching the filters, newest first, in keyset pages."""
    query = sa.select(CustomerRequest).where(*_filters(actor, args))
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(CustomerRequest.created_at, CustomerRequest.id)
                            < tuple(last))
    query = query.order_by(CustomerRequest.created_at.desc(), CustomerRequest.id.desc())
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda r: [r.created_at.isoformat(), str(r.id)])


def _step(actor: Actor, before: str | None, after: str, reason: str | None,
          changed_by: str | None) -> StatusChange:
    return StatusChange(from_status=before, to_status=after, reason=reason,
                        changed_by=changed_by, key_id=actor.key_id)


def _apply_status(record: CustomerRequest, actor: Actor, target: str, reason: str | None,
                  changed_by: str | None) -> None:
    lifecycle.check(record.status, target, reason)
    record.steps.append(_step(actor, record.status, target, reason, changed_by))
    versioning.assign(record, {"status": target, "status_reason": reason})
    record.closed_at = utcnow() if target in lifecycle.CLOSED else None


def _status_changed(session: Session, record: CustomerRequest) -> None:
    """Tell who reacts to a new status (contact: a follow-up when it is ready)."""
    session.flush()
    signals.request_status_changed.send(record, session=session)


def update(session: Session, actor: Actor, request_id: uuid.UUID, changes: dict[str, Any],
           expected_version: int | None = None) -> CustomerRequest:
    """Edit an open request; a `status` in the changes obeys the lifecycle."""
    record = get(session, actor, request_id)
    customers.require_live(lookups.get(session, Customer, record.customer_id))
    check_version(record, expected_version)
    changes = dict(changes)
    target, reason = changes.pop("status", None), changes.pop("reason", None)
    changed_by = changes.pop("changed_by", None)
    if changes and record.status in lifecycle.CLOSED:
        raise Conflict(f"This request is {spoken(record.status)} already, so it can no longer "
                       "be edited: discard the change, or open a new request.")
    versioning.assign(record, changes)
    if target is not None and target != record.status:
        _apply_status(record, actor, target, reason, changed_by)
        _status_changed(session, record)
    elif target is not None:
        # The step it has taken already (another tablet closed it the same way): nothing
        # to do, if the reason fits the status.
        lifecycle.check_reason(target, reason)
    elif reason is not None:
        raise Rejected(errors={"reason": ["A reason goes with a new status: choose the status "
                                          "too, or clear the reason."]})
    session.flush()
    changelog.record(session, "request", record)
    return record


def transition(session: Session, actor: Actor, request_id: uuid.UUID, status: str,
               reason: str | None, changed_by: str | None,
               expected_version: int | None = None) -> CustomerRequest:
    """Move a request along its lifecycle (409 naming the allowed statuses otherwise)."""
    record = get(session, actor, request_id)
    check_version(record, expected_version)
    _apply_status(record, actor, status, reason, changed_by)
    _status_changed(session, record)
    session.flush()
    changelog.record(session, "request", record)
    return record


def move_to_survivor(duplicate: Any, *, into: Any, session: Session, result: Any,
                     **_: Any) -> None:
    """On `customer_merged`: the duplicate's requests move to the survivor and are sent
    again (their stores' tablets and the CRM see them under the survivor)."""
    result.requests = merging.move_records(session, "request", CustomerRequest, duplicate, into)


# The API's ways in: the same rules, each read or change logged (audit.access_log).
search = access_log.logs_read("search", "requests",
                             lambda page, *_: (record.customer_id for record in page[0]))(find)
show = access_log.logs_read("read", "request", lambda record, *_: [record.customer_id])(get)
add = access_log.logs_change("request", lambda record, *_: [record.customer_id])(create)
amend = access_log.logs_change("request", lambda record, *_: [record.customer_id])(update)
step = access_log.logs_change("request", lambda record, *_: [record.customer_id])(transition)
