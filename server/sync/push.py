"""Applying a push: each mutation on its own, exactly once, and fast in the common case.

Rules (SYNC.md): a mutation_id applied before answers `duplicate` with the stored
result; fields the device changed that the server changed since `base_version`
answer `conflict` and nothing is applied; field errors answer `rejected`; one
mutation's failure never touches another's effect. The stored result is written
in the same savepoint as the effect, so neither exists without the other.

Speed: runs of new records (the bulk of what tablets push) are applied together
in one savepoint and one flush (one batched INSERT per table). Should anything
in such a group fail at the database, the group is rolled back and replayed one
mutation per savepoint, which is also how edits and deletes always go. In such a
group, new requests with plain fields skip marshmallow and the ORM: checked by
`QuickLoad` (or by the schema when it is not sure), captured as rows by
customer_requests.service.Captures under the same rules as `create`, and inserted
in bulk (COPY on PostgreSQL) with their stored results.

What each entity's mutation may do, and by which rules, is `sync.entities.RULES`: the
same services the REST API calls, with the same actor. A pushed customer is checked
by customers.service (create, update); a request by customer_requests.service (create,
update: the lifecycle in customer_requests.lifecycle; a group of new ones by its
Captures); a note by notes.service (create, update, delete: the sensitive scan in
notes.sensitive); a consent event by consent.service.append (the notice it cites,
a live customer for a grant, the ledger's order). This module adds only what a push
itself means: the envelope, exactly-once, base versions and conflicts, savepoints,
and the one order its row locks are taken in (sync.locks).
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, scoped_session
from sqlalchemy.orm.exc import StaleDataError

from server.audit import access_log
from server.changelog import service as changelog
from server.changelog.models import StoreCustomer
from server.core import bulk, lookups
from server.core.actor import Actor
from server.core.errors import (
    AlreadyExists,
    BlackbookError,
    Conflict,
    Forbidden,
    Gone,
    IllegalTransition,
    NotFound,
    Rejected,
)
from server.core.plainschema import QuickLoad
from server.core.versioning import changed_since
from server.core.wording import spoken, with_article
from server.customer_requests import service as customer_requests
from server.customer_requests.models import CustomerRequest
from server.customers.models import Customer
from server.stores.models import Device, Store
from server.sync import locks
from server.sync.entities import RULES, EntityRules
from server.sync.models import AppliedMutation
from server.sync.schemas import MAX_MUTATIONS, Mutation

_envelope = Mutation()
# Plain input skips marshmallow's machinery (server.core.plainschema): the envelope, and
# the fields of a new request (what tablets push most).
_quick_envelope = QuickLoad(_envelope)
_quick_create = {"request": QuickLoad(RULES["request"].create_schema)}
_APPLIED = AppliedMutation.__table__
# What a mutation can fail with that pushing it again unchanged would not fix.
_PERMANENT = (ValidationError, Rejected, NotFound, Forbidden, Conflict, Gone)
# The customers this push has logged as changed (audit.access_log) with a group's
# rows: logged once a push, as if at its end.
_LOGGED = "blackbook.push.logged"


class TooManyMutations(BlackbookError):
    status, code, title = 413, "too_many_mutations", "Too many mutations in one push"


def push(session: Session, actor: Actor, device_id: uuid.UUID,
         mutations: list[Any]) -> list[dict[str, Any]]:
    """Apply a batch from a device; results in the order of the mutations."""
    if isinstance(session, scoped_session):
        session = session()  # the request's own: no proxy lookup on each of ~10 uses a mutation
    if device_id != actor.device_id:
        raise Forbidden("A device pushes with its own key only.")
    if len(mutations) > MAX_MUTATIONS:
        raise TooManyMutations(f"At most {MAX_MUTATIONS} mutations per push; "
                               f"this one has {len(mutations)}.")
    parsed = [_parse(raw) for raw in mutations]
    _prefetch(session, actor, [m for m in parsed if "entity" in m])
    locks.take(session, actor.store_id, [m for m in parsed if "entity" in m])
    session.info[_LOGGED] = set()
    try:
        results = _apply_all(session, actor, parsed)
        access_log.changed(session, actor, "sync push", set(_customers_changed(
            session, parsed, results)) - session.info[_LOGGED])
        return results
    finally:
        lookups.forget(session)
        session.info.pop(_LOGGED, None)


def _customers_changed(session: Session, parsed: list[dict], results: list[dict]):
    for mutation, result in zip(parsed, results, strict=True):
        if result.get("status") != "applied":
            continue
        if mutation["entity"] == "customer":
            yield mutation["id"]
        elif (customer_id := _uuid(mutation["fields"].get("customer_id"))) is not None:
            yield customer_id
        else:
            record = lookups.get(session, RULES[mutation["entity"]].model, mutation["id"])
            yield getattr(record, "customer_id", None)


# -- envelopes and the batch's lookups ---------------------------------------------

def _parse(raw: Any) -> dict[str, Any]:
    """The checked envelope, or a rejected result naming what is wrong with it."""
    quick = _quick_envelope.load(raw)
    if quick is not None:
        return quick
    try:
        return _envelope.load(raw)
    except ValidationError as error:
        given = raw.get("mutation_id") if isinstance(raw, dict) else None
        return _rejected(given if isinstance(given, str) else None, error.messages)


def _prefetch(session: Session, actor: Actor, mutations: list[dict[str, Any]]) -> None:
    """Everything the batch will look up, in two queries when it holds only new records:
    which mutation ids and record ids exist, and the customers it names."""
    if any(m["entity"] == "customer" for m in mutations):  # a new customer's region
        lookups.prefetch(session, Store, [actor.store_id])
    records = [(rules.model, [m["id"] for m in mutations if m["entity"] == entity])
               for entity, rules in RULES.items() if rules.model is not Customer]
    lookups.prefetch_existing(session, [
        (AppliedMutation, [m["mutation_id"] for m in mutations]), *records])
    customers = {_uuid(m["fields"].get("customer_id")) for m in mutations}
    customers |= {m["id"] for m in mutations if m["entity"] == "customer"}
    customers.discard(None)
    _prefetch_customers(session, actor.store_id, sorted(customers, key=str))


def _prefetch_customers(session: Session, store_id: uuid.UUID | None,
                        customers: list[uuid.UUID]) -> None:
    """The customers, each with their place in this store's scope (if any), together."""
    for start in range(0, len(customers), 500):
        chunk = customers[start:start + 500]
        rows = session.execute(_customers_in_scope(), {"store": store_id, "ids": chunk}).all()
        lookups.remember(session, Customer, chunk, [customer for customer, _ in rows])
        lookups.remember(session, StoreCustomer, [(store_id, c) for c in chunk],
                         [held for _, held in rows if held is not None])


@functools.cache
def _customers_in_scope() -> sa.Select:
    """Built once (every push runs it): customers :ids, each with its StoreCustomer row
    for store :store, if any."""
    held = sa.and_(StoreCustomer.customer_id == Customer.id,
                   StoreCustomer.store_id == sa.bindparam("store"))
    return (sa.select(Customer, StoreCustomer).outerjoin(StoreCustomer, held)
            .where(Customer.id.in_(sa.bindparam("ids", expanding=True))))


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


# -- the two paths -------------------------------------------------------------------

def _apply_all(session: Session, actor: Actor, parsed: list[dict]) -> list[dict[str, Any]]:
    results: list[dict[str, Any] | None] = [None] * len(parsed)
    group: list[int] = []
    first = True  # nothing written yet in this transaction
    for index, mutation in enumerate(parsed):
        if "entity" not in mutation:
            results[index] = mutation  # already a rejection
        elif _is_new_record(session, mutation):
            group.append(index)
        else:
            _apply_group(session, actor, parsed, group, results, first)
            group, first = [], False
            results[index] = _one(session, actor, mutation)
    _apply_group(session, actor, parsed, group, results, first)
    return results


def _is_new_record(session: Session, mutation: dict[str, Any]) -> bool:
    creates = "append" if RULES[mutation["entity"]].append_only else "upsert"
    return (mutation["op"] == creates and not mutation["base_version"]
            and lookups.get(session, AppliedMutation, mutation["mutation_id"]) is None
            and lookups.get(session, RULES[mutation["entity"]].model, mutation["id"]) is None)


def _apply_group(session, actor, parsed, group: list[int], results: list,
                 first: bool) -> None:
    """New records together: one savepoint, one flush. Any surprise: one by one instead.

    New requests whose fields are plain (`_quick_create`) are captured as rows and
    inserted in bulk, without the ORM, before any other mutation of the group runs.
    `first`: nothing was written before the group in this transaction (most pushes are
    one group of new records), so a surprise rolls the whole transaction back instead of
    a savepoint: two round trips fewer for the common case."""
    if not group:
        return
    mark, logged = changelog.mark(session), set(session.info[_LOGGED])
    savepoint = None if first else session.begin_nested()
    captures = _Captured(actor, parsed, results) if _distinct(parsed, group) else None
    try:
        for index in group:
            mutation, rules = parsed[index], RULES[parsed[index]["entity"]]
            quick = _quick_fields(rules, mutation) if captures is not None else None
            if quick is None and captures is not None and mutation["entity"] != "request":
                captures.insert(session)  # it may read those requests (a note on one)
            before = (lookups.added(session), changelog.mark(session))
            try:
                record = (captures.add(session, index, quick) if quick is not None
                          else _create(session, actor, rules, mutation))
            except _PERMANENT as error:
                if (lookups.added(session), changelog.mark(session)) != before:
                    raise _Replay from error  # it left something behind: be careful
                results[index] = _result_of_error(mutation, error)
                continue
            # A new record is at version 1, so its result is known before the flush.
            applied = _applied(mutation["entity"], record, 1)
            results[index] = ({"mutation_id": str(mutation["mutation_id"])} | applied
                              if quick is not None else _stored(session, actor, mutation, applied))
        if captures is not None:
            captures.insert(session)
        session.flush()
        if savepoint is not None:
            savepoint.commit()
    except (_Replay, IntegrityError, StaleDataError):
        if savepoint is not None:
            savepoint.rollback()
        else:
            session.rollback()  # only reads before it: the key, the batch's lookups
        changelog.rewind(session, mark)
        session.info[_LOGGED] = logged
        lookups.forget(session)
        for index in group:
            results[index] = _one(session, actor, parsed[index])


def _distinct(parsed: list[dict], group: list[int]) -> bool:
    """No record or mutation twice in the group (else the careful path sorts it out)."""
    ids = {parsed[i]["id"] for i in group}
    return len(ids) == len(group) == len({parsed[i]["mutation_id"] for i in group})


def _quick_fields(rules: EntityRules, mutation: dict[str, Any]) -> dict[str, Any] | None:
    quick = _quick_create.get(mutation["entity"])
    return None if quick is None else quick.load(_create_data(rules, mutation))


class _Captured:
    """A group's new requests as rows (customer_requests.service.Captures), with their
    stored results: inserted together when the group ends or another mutation must
    see them."""

    def __init__(self, actor: Actor, parsed: list[dict], results: list) -> None:
        self.actor, self.parsed, self.results = actor, parsed, results
        self.requests = customer_requests.Captures()
        self.indexes: list[int] = []
        self.customers: list[uuid.UUID] = []

    def add(self, session: Session, index: int, data: dict[str, Any]) -> Any:
        record = self.requests.add(session, self.actor, data)
        self.indexes.append(index)
        self.customers.append(record.customer_id)
        return record

    def insert(self, session: Session) -> None:
        if not self.indexes:
            return
        more = [(_APPLIED, [bulk.complete(_APPLIED, {
            "mutation_id": self.parsed[i]["mutation_id"], "device_id": self.actor.device_id,
            "result": self.results[i]}) for i in self.indexes])]
        logged = session.info[_LOGGED]
        access_log.changed(session, self.actor, "sync push",
                           set(self.customers) - logged, into=more)
        self.requests.insert(session, *more)
        logged.update(self.customers)
        self.customers = []
        # The batch's lookups hold these requests and mutation ids as absent.
        lookups.written(session, AppliedMutation,
                        [self.parsed[i]["mutation_id"] for i in self.indexes])
        lookups.written(session, CustomerRequest, [self.parsed[i]["id"] for i in self.indexes])
        self.indexes = []


class _Replay(Exception):
    """A grouped mutation failed in a way that needs the careful path."""


def _one(session: Session, actor: Actor, mutation: dict[str, Any],
         again: bool = True) -> dict[str, Any]:
    """One mutation in its own savepoint."""
    replay = _replay(session, actor, mutation["mutation_id"])
    if replay is not None:
        return replay
    try:
        with changelog.savepoint(session):
            result = _apply(session, actor, mutation)
            if result["status"] == "applied":
                session.flush()
                result = _stored(session, actor, mutation, result)
                session.flush()
        return result
    except _PERMANENT as error:
        return _result_of_error(mutation, error)
    except (IntegrityError, StaleDataError):
        # Another push of the same mutation, or another edit of the same record,
        # committed first: answer as that one did, or apply this one to the record
        # as it now is (the usual conflict rules), once.
        lookups.forget(session)
        replay = _replay(session, actor, mutation["mutation_id"])
        if replay is not None:
            return replay
        if again:
            return _one(session, actor, mutation, again=False)
        # `retry`: nothing wrong with it; the client keeps it and sends it again.
        return _rejected(str(mutation["mutation_id"]), {
            "id": ["Written at the same moment by another tablet; it will be sent again."]}) | {
            "retry": True}


# -- results -------------------------------------------------------------------------

def _rejected(mutation_id: Any, errors: dict) -> dict[str, Any]:
    return {"mutation_id": mutation_id, "status": "rejected", "errors": errors}


def _result_of_error(mutation: dict[str, Any], error: Exception) -> dict[str, Any]:
    mutation_id = str(mutation["mutation_id"])
    if isinstance(error, ValidationError):
        return _rejected(mutation_id, error.messages)
    if isinstance(error, IllegalTransition):
        allowed = ", ".join(map(spoken, error.extra["allowed"]))
        then = f"It can become: {allowed}." if allowed else "It is closed: it stays as it is."
        return _rejected(mutation_id, {"status": [f"{error.detail} {then}"]})
    if isinstance(error, Rejected):
        return _rejected(mutation_id, error.errors or {"fields": [error.detail]})
    if isinstance(error, Gone):
        return _rejected(mutation_id, {"customer_id": [error.detail]})
    return _rejected(mutation_id, {"id": [error.detail]})


def _stored(session, actor, mutation, result: dict[str, Any]) -> dict[str, Any]:
    result = {"mutation_id": str(mutation["mutation_id"])} | result
    lookups.add(session, AppliedMutation(mutation_id=mutation["mutation_id"],
                                         device_id=actor.device_id, result=result))
    return result


def _replay(session: Session, actor: Actor, mutation_id: uuid.UUID) -> dict[str, Any] | None:
    stored = lookups.get(session, AppliedMutation, mutation_id)
    if stored is None:
        return None
    if stored.device_id != actor.device_id and not _same_store(session, actor, stored):
        return _rejected(str(mutation_id), {"mutation_id": [
            "Another tablet sent this change already: discard it here."]})
    return stored.result | {"status": "duplicate"}


def _same_store(session: Session, actor: Actor, stored: AppliedMutation) -> bool:
    """A tablet re-enrolled with a new key (a new device of the same store) sends again
    what its old key may have applied unanswered: that is a replay, not a clash."""
    device = lookups.get(session, Device, stored.device_id) if stored.device_id else None
    return device is not None and device.store_id == actor.store_id


def _applied(entity: str, record: Any, version: int | None = None) -> dict[str, Any]:
    return {"status": "applied", "entity": entity, "id": str(record.id),
            "version": version or record.version,
            "warnings": list(getattr(record, "warnings", []))}


def _conflict(entity: str, rules: EntityRules, record: Any, fields: list[str]) -> dict:
    return {"status": "conflict", "entity": entity, "id": str(record.id),
            "version": record.version, "conflicts": fields,
            "record": rules.out_schema.dump(record)}


# -- applying one mutation -------------------------------------------------------------

def _apply(session: Session, actor: Actor, mutation: dict[str, Any]) -> dict[str, Any]:
    rules = RULES[mutation["entity"]]
    if (mutation["op"] == "append") != rules.append_only:
        raise Rejected(errors={"op": ["Consent events are appended (op: append), never "
                                      "changed; append is for consent events only."]})
    record = lookups.get(session, rules.model, mutation["id"])
    if rules.append_only:
        if record is not None:
            raise AlreadyExists("This event is recorded already; events never change.")
        return {"mutation_id": str(mutation["mutation_id"])} | _applied(
            mutation["entity"], _create(session, actor, rules, mutation), 1)
    if record is not None:
        rules.get(session, actor, record.id)  # another store's record does not exist here
    if mutation["op"] == "delete":
        result = _delete(session, actor, rules, mutation, record)
    elif record is None and mutation["base_version"]:
        # The device had this record; the server no longer does (deleted, or never here).
        result = {"status": "conflict", "entity": mutation["entity"],
                  "id": str(mutation["id"]), "version": None, "conflicts": [], "record": None}
    elif record is None:
        result = _applied(mutation["entity"], _create(session, actor, rules, mutation), 1)
    else:
        result = _update(session, actor, rules, mutation, record)
    return {"mutation_id": str(mutation["mutation_id"])} | result


def _create_data(rules: EntityRules, mutation: dict[str, Any]) -> dict[str, Any]:
    """A new record's fields as its create schema takes them, with the envelope's id
    and capture details."""
    data = mutation["fields"] | {"id": mutation["id"]}  # a UUID: the schemas take one
    for key in ("captured_at", "captured_by"):
        if mutation[key] is not None and key in rules.create_schema.fields:
            data.setdefault(key, mutation[key].isoformat() if key == "captured_at"
                            else mutation[key])
    return data


def _create(session, actor, rules: EntityRules, mutation) -> Any:
    return rules.create(session, actor, rules.create_schema.load(_create_data(rules, mutation)))


def _update(session, actor, rules: EntityRules, mutation, record) -> dict[str, Any]:
    if mutation["op"] == "upsert" and not mutation["fields"]:
        return _applied(mutation["entity"], record)
    changes = rules.update_schema.load(mutation["fields"])
    conflicts = changed_since(record, mutation["base_version"] or 0, changes)
    if conflicts:
        return _conflict(mutation["entity"], rules, record, conflicts)
    if "status" in changes and mutation["captured_by"]:
        changes.setdefault("changed_by", mutation["captured_by"])
    version = record.version
    record = rules.update(session, actor, record.id, changes)
    session.flush()
    # `unchanged`: the record held these values already; its version is someone else's.
    return _applied(mutation["entity"], record) | ({"unchanged": True}
                                                    if record.version == version else {})


def _delete(session, actor, rules: EntityRules, mutation, record) -> dict[str, Any]:
    if rules.delete is None:
        raise Rejected(errors={"op": [
            f"{with_article(mutation['entity']).capitalize()} cannot be deleted by sync."]})
    if record is None:
        return {"status": "applied", "entity": mutation["entity"], "id": str(mutation["id"]),
                "version": None, "warnings": []}
    base = mutation["base_version"] or 0
    touched = sorted(f for f, v in (record.field_versions or {}).items() if v > base)
    if touched:
        return _conflict(mutation["entity"], rules, record, touched)
    version = record.version + 1
    rules.delete(session, actor, record.id)
    return {"status": "applied", "entity": mutation["entity"], "id": str(mutation["id"]),
            "version": version, "warnings": []}
