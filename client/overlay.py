"""What the tablet shows: the server's copy of a record with the outbox laid on top.

The local view of a record is never edited in place. It is recomputed from the
server's copy and the mutations still in the outbox for that record, in capture
order — so a pull can replace the server's copy at any time without erasing an
edit the server has not confirmed yet (the edit is laid on the new copy again),
and taking a mutation out of the outbox (applied, discarded, resolved) shows
exactly what is left.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# A mutation's field that lands in the record under another name.
_RENAMED = {"request": {"reason": "status_reason"}}
# Fields a mutation carries that are not part of the record the tablet holds.
_NOT_IN_RECORD = {"request": frozenset({"changed_by"})}


@dataclass(frozen=True)
class Mutation:
    """A captured change, as far as the view cares."""

    entity: str
    op: str            # upsert | delete | append
    record_id: str
    fields: dict[str, Any]
    creates: bool      # the first mutation of a record the server has never had


def field_name(entity: str, name: str) -> str:
    """The record's name for a mutation's field."""
    return _RENAMED.get(entity, {}).get(name, name)


def in_record(entity: str, name: str) -> bool:
    """Whether a mutation's field lands in the record at all."""
    return name not in _NOT_IN_RECORD.get(entity, frozenset())


def apply(body: dict[str, Any] | None, mutation: Mutation) -> dict[str, Any] | None:
    """The record after `mutation`; None when it deletes the record."""
    if mutation.op == "delete":
        return None
    renamed = _RENAMED.get(mutation.entity, {})
    skipped = _NOT_IN_RECORD.get(mutation.entity, frozenset())
    result = dict(body) if body is not None else {"id": mutation.record_id}
    for name, value in mutation.fields.items():
        if name not in skipped:
            result[renamed.get(name, name)] = value
    return result


def view(server: dict[str, Any] | None, shown: dict[str, Any] | None,
         pending: Iterable[Mutation]) -> dict[str, Any] | None:
    """The record as the tablet shows it.

    `shown` is what the tablet showed until now. It is the starting point only when
    the server has no copy and the outbox does not create the record: the server
    deleted it under a pending edit, which the next push settles; until then the
    associate keeps seeing what they edited rather than a fragment of it.
    """
    pending = list(pending)
    body = server
    if server is None and pending and not pending[0].creates:
        body = shown
    for mutation in pending:
        body = apply(body, mutation)
    return body
