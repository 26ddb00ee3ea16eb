"""Applying a push: each mutation on its own, in its own savepoint, exactly once.

Rules (SYNC.md): a mutation_id applied before answers `duplicate` with the stored
result; fields the device changed that the server changed since `base_version`
answer `conflict` and nothing is applied; field errors answer `rejected`; one
mutation's failure never touches another's effect.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.changelog import service as changelog
from server.core.actor import Actor
from server.core.errors import (
    BlackbookError,
    Conflict,
    Forbidden,
    IllegalTransition,
    NotFound,
    Rejected,
)
from server.core.versioning import changed_since
from server.sync.entities import RULES, EntityRules
from server.sync.models import AppliedMutation
from server.sync.schemas import MAX_MUTATIONS, Mutation

_envelope = Mutation()
ABSENT = "blackbook.sync.absent"


class TooManyMutations(BlackbookError):
    status, code, title = 413, "too_many_mutations", "Too many mutations in one push"


def push(session: Session, actor: Actor, device_id: uuid.UUID,
         mutations: list[Any]) -> list[dict[str, Any]]:
    """Apply a batch from a device; results in the order of the mutations."""
    if device_id != actor.device_id:
        raise Forbidden("A device pushes with its own key only.")
    if len(mutations) > MAX_MUTATIONS:
        raise TooManyMutations(f"At most {MAX_MUTATIONS} mutations per push; "
                               f"this one has {len(mutations)}.")
    _prefetch(session, mutations)
    try:
        return [_one(session, actor, raw) for raw in mutations]
    finally:
        session.info.pop(ABSENT, None)


def _prefetch(session: Session, mutations: list[Any]) -> None:
    """Load what the batch will look up in a few queries, not several per mutation;
    later `session.get` calls then answer from the identity map."""
    wanted: dict[str, set[uuid.UUID]] = {"applied": set()}
    for raw in mutations:
        if not isinstance(raw, dict):
            continue
        for key, bucket in (("mutation_id", "applied"), ("id", raw.get("entity"))):
            try:
                wanted.setdefault(str(bucket), set()).add(uuid.UUID(str(raw.get(key))))
            except ValueError:
                continue  # the envelope check will reject it, with the field named
    for bucket, ids in wanted.items():
        model = AppliedMutation if bucket == "applied" else getattr(RULES.get(bucket), "model",
                                                                    None)
        if model is None or not ids:
            continue
        key = AppliedMutation.mutation_id if model is AppliedMutation else model.id
        found = set()
        for chunk in _chunks(sorted(ids), 500):
            found |= {key_of(row) for row in session.scalars(sa.select(model)
                                                              .where(key.in_(chunk)))}
        session.info.setdefault(ABSENT, set()).update((model, i) for i in ids - found)


def key_of(row: Any) -> uuid.UUID:
    return row.mutation_id if isinstance(row, AppliedMutation) else row.id


def _get(session: Session, model: type, key: uuid.UUID) -> Any:
    """session.get, minus the query for rows the prefetch found missing."""
    if (model, key) in session.info.get(ABSENT, ()):
        identity = session.identity_map.get(session.identity_key(model, key))
        if identity is None:
            return None
    return session.get(model, key)


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _rejected(mutation_id: Any, errors: dict) -> dict[str, Any]:
    return {"mutation_id": mutation_id, "status": "rejected", "errors": errors}


def _one(session: Session, actor: Actor, raw: Any) -> dict[str, Any]:
    given_id = raw.get("mutation_id") if isinstance(raw, dict) else None
    try:
        mutation = _envelope.load(raw)
    except ValidationError as error:
        return _rejected(given_id if isinstance(given_id, str) else None, error.messages)
    mutation_id = str(mutation["mutation_id"])
    replay = _replay(session, actor, mutation["mutation_id"])
    if replay is not None:
        return replay
    try:
        with changelog.savepoint(session):
            result = {"mutation_id": mutation_id} | _apply(session, actor, mutation)
            if result["status"] == "applied":
                session.add(AppliedMutation(mutation_id=mutation["mutation_id"],
                                            device_id=actor.device_id, result=result))
                session.flush()
        return result
    except ValidationError as error:
        return _rejected(mutation_id, error.messages)
    except IllegalTransition as error:
        return _rejected(mutation_id, {"status": [error.detail + " Allowed: "
                                                  + (", ".join(error.extra["allowed"])
                                                     or "none") + "."]})
    except Rejected as error:
        return _rejected(mutation_id, error.errors or {"fields": [error.detail]})
    except (NotFound, Forbidden, Conflict) as error:
        return _rejected(mutation_id, {"id": [error.detail]})
    except IntegrityError:
        # Another push of the same mutation (or id) committed first.
        session.info.get(ABSENT, set()).discard((AppliedMutation, mutation["mutation_id"]))
        replay = _replay(session, actor, mutation["mutation_id"])
        return replay or _rejected(mutation_id, {"id": ["Written concurrently; pull, "
                                                        "then push again."]})


def _replay(session: Session, actor: Actor, mutation_id: uuid.UUID) -> dict[str, Any] | None:
    stored = _get(session, AppliedMutation, mutation_id)
    if stored is None:
        return None
    if stored.device_id != actor.device_id:
        return _rejected(str(mutation_id), {"mutation_id": ["Used by another device."]})
    return stored.result | {"status": "duplicate"}


def _apply(session: Session, actor: Actor, mutation: dict[str, Any]) -> dict[str, Any]:
    rules = RULES[mutation["entity"]]
    if mutation["op"] == "append":
        raise Rejected(errors={"op": ["append is for consent events only."]})
    record = _get(session, rules.model, mutation["id"])
    if record is not None:
        rules.get(session, actor, record.id)  # another store's record does not exist here
    if mutation["op"] == "delete":
        return _delete(session, actor, rules, mutation, record)
    if record is None:
        return _create(session, actor, rules, mutation)
    return _update(session, actor, rules, mutation, record)


def _applied(entity: str, record: Any, version: int | None = None) -> dict[str, Any]:
    return {"status": "applied", "entity": entity, "id": str(record.id),
            "version": version or record.version,
            "warnings": list(getattr(record, "warnings", []))}


def _conflict(entity: str, rules: EntityRules, record: Any, fields: list[str]) -> dict:
    return {"status": "conflict", "entity": entity, "id": str(record.id),
            "version": record.version, "conflicts": fields,
            "record": rules.out_schema.dump(record)}


def _create(session, actor, rules: EntityRules, mutation) -> dict[str, Any]:
    if mutation["base_version"]:
        # The device had this record, the server no longer does (deleted or never here).
        return {"status": "conflict", "entity": mutation["entity"], "id": str(mutation["id"]),
                "version": None, "conflicts": [], "record": None}
    data = mutation["fields"] | {"id": str(mutation["id"])}
    for key in ("captured_at", "captured_by"):
        if mutation[key] is not None and key in rules.create_schema.fields:
            data.setdefault(key, mutation[key].isoformat() if key == "captured_at"
                            else mutation[key])
    record = rules.create(session, actor, rules.create_schema.load(data))
    return _applied(mutation["entity"], record)


def _update(session, actor, rules: EntityRules, mutation, record) -> dict[str, Any]:
    changes = rules.update_schema.load(mutation["fields"])
    conflicts = changed_since(record, mutation["base_version"] or 0, changes)
    if conflicts:
        return _conflict(mutation["entity"], rules, record, conflicts)
    if "status" in changes and mutation["captured_by"]:
        changes.setdefault("changed_by", mutation["captured_by"])
    record = rules.update(session, actor, record.id, changes)
    return _applied(mutation["entity"], record)


def _delete(session, actor, rules: EntityRules, mutation, record) -> dict[str, Any]:
    if rules.delete is None:
        raise Rejected(errors={"op": [f"A {mutation['entity']} cannot be deleted by sync."]})
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
