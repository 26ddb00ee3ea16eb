"""Recording changes. Services call `record`; numbering happens at commit.

Changes recorded inside `savepoint(...)` are forgotten if that savepoint rolls
back, so a rejected sync mutation leaves no trace in the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from server.changelog import bodies
from server.changelog.models import PER_CUSTOMER, Change, ChangeCounter, StoreCustomer
from server.core import bulk
from server.core.errors import Unavailable
from server.core.types import utcnow

PENDING = "blackbook.pending_changes"


@dataclass
class PendingChange:
    entity: str
    record: Any
    op: str
    version: int | None
    store_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    reason: str | None
    body: dict[str, Any] | None = None  # given when the record is a row, not a model
    history: str | None = None  # a request's, given with its body (bodies.register)
    new: bool = False  # created in this transaction: no earlier change to supersede

    @property
    def key(self) -> tuple[str, uuid.UUID]:
        return (self.entity, self.record.id)


def record(session: Session, entity: str, obj: Any, *, op: str = "upsert",
           reason: str | None = None, store_id: uuid.UUID | None = None,
           body: dict[str, Any] | None = None, history: str | None = None,
           new: bool = False) -> None:
    """Note that `obj` changed in this transaction; it is logged when the transaction commits.

    `store_id` defaults to the record's own store; a customer's record (PER_CUSTOMER)
    carries one only when it enters that store's scope, and is otherwise fanned out.
    `body`: the record as a tablet sees it, when `obj` is a row inserted in bulk
    rather than a model (see changelog.bodies.of_row); otherwise dumped at commit.
    `history`: with `body`, a request's status history as JSON text (bodies.register);
    otherwise written at commit. `new`: the record was created in this transaction, so
    no earlier change of it exists to mark superseded (a push of new captures then skips
    that statement).
    """
    version = obj.version + 1 if op == "delete" else None
    if store_id is None and entity not in PER_CUSTOMER:
        store_id = getattr(obj, "store_id", None)
    session.info.setdefault(PENDING, []).append(PendingChange(
        entity, obj, op, version, store_id,
        getattr(obj, "customer_id", None) if entity != "customer" else obj.id, reason, body,
        history, new))


def mark(session: Session) -> int:
    """Where the pending list stands; `rewind` forgets what was recorded after it."""
    return len(session.info.setdefault(PENDING, []))


def rewind(session: Session, position: int) -> None:
    del session.info.setdefault(PENDING, [])[position:]


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A savepoint whose rollback also forgets the changes recorded inside it."""
    pending = session.info.setdefault(PENDING, [])
    mark = len(pending)
    try:
        with session.begin_nested():
            yield
    except BaseException:
        del pending[mark:]
        raise


def _latest_per_record(pending: list[PendingChange]) -> list[PendingChange]:
    """One change per record and store hint: the last one wins its slot (new if the record
    was created in this transaction by any of them)."""
    latest: dict[tuple, PendingChange] = {}
    for change in pending:
        key = (*change.key, change.store_id)
        earlier = latest.pop(key, None)
        if earlier is not None and earlier.new:
            change.new = True
        latest[key] = change
    return list(latest.values())


def _fanned(change: PendingChange) -> bool:
    return change.entity in PER_CUSTOMER and not change.store_id


def _fan_out(session: Session, changes: list[PendingChange]) -> list[PendingChange]:
    """A customer belongs to no store: each change of one (or of their consent) is logged
    once for everyone (no store) and once for each store whose tablets hold the
    customer, so a store's stream is one index range."""
    ids = sorted({c.customer_id for c in changes if _fanned(c)})
    stores: dict[uuid.UUID, list[uuid.UUID]] = {}
    for start in range(0, len(ids), 1000):
        query = sa.select(StoreCustomer.customer_id, StoreCustomer.store_id).where(
            StoreCustomer.customer_id.in_(ids[start:start + 1000]))
        for customer_id, store_id in session.execute(query):
            stores.setdefault(customer_id, []).append(store_id)
    fanned = []
    for change in changes:
        fanned.append(change)
        if _fanned(change):
            fanned += [replace(change, store_id=s) for s in stores.get(change.customer_id, ())]
    return fanned


def _take_numbers(session: Session, count: int, captured: set[uuid.UUID]) -> int:
    """Reserve `count` positions; returns the last. Holds the counter lock until commit.

    `captured`: the customers this transaction captures something for. If one of them
    was merged into another record meanwhile, the commit is refused (503, retry): the
    capture read the customer before the merge committed and wrote after (its
    foreign-key check waited for the merge's lock). Sent again, it goes to the record
    standing for them (customers.standing). Asked in the same statement, after the
    writes, so it sees any merge they waited for; a capture that committed first, the
    merge waited for, and moved (customers.merge). The question is the customers'
    (`refuse_captures_for`)."""
    connection = session.connection()
    if not captured:
        return connection.execute(_TAKE, {"count": count}).scalar_one()
    last, merged = connection.execute(_take_checking(), {"count": count,
                                                         "ids": list(captured)}).one()
    if merged is not None:
        raise Unavailable("This customer was merged into another record while this was "
                          "being saved; send it again.")
    return last


# Built once, run on the connection: every commit that logs a change runs one of them.
_counter = ChangeCounter.__table__.c
_TAKE = (sa.update(ChangeCounter.__table__).where(_counter.id == 1)
         .values(value=_counter.value + sa.bindparam("count", type_=sa.BigInteger))
         .returning(_counter.value))
_CHECKS: dict[str, sa.Select] = {}


def refuse_captures_for(merged: sa.Select) -> None:
    """The customers package's question, asked at every commit that captures something:
    one id among `:ids` (expanding) of a customer merged away, or none."""
    _CHECKS["merged"] = merged
    _CHECKS.pop("take", None)


def _take_checking() -> sa.Select:
    if "take" not in _CHECKS:
        _CHECKS["take"] = _TAKE.returning(_CHECKS["merged"].scalar_subquery())
    return _CHECKS["take"]


_WRITTEN: list[Callable[[Session, list[dict[str, Any]]], None]] = []


def on_written(listener: Callable[[Session, list[dict[str, Any]]], None]) -> None:
    """Call `listener(session, rows)` with the change rows each commit logs, after they
    are inserted, in the same transaction (the webhooks' outbox). Idempotent."""
    if listener not in _WRITTEN:
        _WRITTEN.append(listener)


def missing_registrations() -> set[str]:
    """What the domains have not registered with the log yet (checked by create_app)."""
    return ({f"view of {entity}" for entity in bodies.missing()}
            | {f"history of {entity}" for entity in bodies.WITH_HISTORY
               if bodies.histories_of(entity) is None}
            | ({"merged-customer check"} if "merged" not in _CHECKS else set()))


def write_pending(session: Session) -> None:
    """Log what is pending: the commit hook (`install`). Called directly, it logs now,
    as the commit would (server.ops.warmup rehearses a push with it, then rolls back)."""
    pending = session.info.get(PENDING)
    if not pending or session.in_nested_transaction():
        return  # a savepoint's release; the log is written once, at the real commit
    session.flush()
    captured = _captured(pending)
    changes = _latest_per_record(_fan_out(session, pending))
    pending.clear()
    # Serialised before the counter's lock is taken: every other writer waits on that
    # lock until this transaction commits, and a batch's bodies take a while to serialise.
    histories = _histories(session, changes)
    rows = [_row(c, histories) for c in changes]
    last = _take_numbers(session, len(rows), captured)
    now = utcnow()
    for i, row in enumerate(rows):
        row["seq"], row["committed_at"] = last - len(rows) + i + 1, now
    bulk.insert(session, Change.__table__, rows)
    if not all(change.new for change in changes):
        _supersede(session, first=last - len(rows) + 1, last=last)
    for listener in _WRITTEN:  # the webhooks' outbox, in this same transaction
        listener(session, rows)


CAPTURED = frozenset({"request", "note", "consent"})  # what a capture adds for a customer


def _captured(pending: list[PendingChange]) -> set[uuid.UUID]:
    """The customers these changes capture something for (see `_take_numbers`)."""
    return {c.customer_id for c in pending
            if c.entity in CAPTURED and c.op != "delete" and c.customer_id is not None}


def _supersede(session: Session, first: int, last: int) -> None:
    """Mark the earlier changes of the records just logged (positions first..last), each
    in its own stream (same store hint, or none), as superseded.

    Run under the counter's lock, so every earlier change is committed and seen here:
    the flag and the change that sets it become visible together, at this commit."""
    new = (sa.select(Change.entity, Change.record_id, Change.store_id)
           .where(Change.seq.between(first, last)).subquery())
    session.execute(
        sa.update(Change)
        .where(Change.entity == new.c.entity, Change.record_id == new.c.record_id,
               Change.store_id.is_not_distinct_from(new.c.store_id),
               Change.seq < first, Change.superseded.is_(False))
        .values(superseded=True).execution_options(synchronize_session=False))


def _with_history(change: PendingChange) -> bool:
    return change.entity in bodies.WITH_HISTORY and change.op != "delete"


def _histories(session: Session, changes: list[PendingChange]) -> dict[str, str]:
    """The history of each record logged that has one (a request's status history; ids
    as text): given with the change, or else from its entity's registered history."""
    found: dict[str, str] = {}
    unknown: dict[str, list[Any]] = {}
    for change in filter(_with_history, changes):
        if change.history is not None:
            found[str(change.record.id)] = change.history
        else:
            unknown.setdefault(change.entity, []).append(change.record)
    for entity, records in unknown.items():
        found |= bodies.histories_of(entity)(session, records)
    return found


def _row(change: PendingChange, histories: dict[str, str]) -> dict[str, Any]:
    """A change's row, all but its number and time (given under the counter's lock)."""
    return {"entity": change.entity, "record_id": change.record.id, "op": change.op,
            "version": change.version or change.record.version, "store_id": change.store_id,
            "customer_id": change.customer_id, "reason": change.reason,
            "body": change.body or bodies.body(change.entity, change.record, change.op),
            "history": (histories.get(str(change.record.id), "[]") if _with_history(change)
                        else None),
            "superseded": False}


def _forget_on_end(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


def install(session_class: Any) -> None:
    """Hook the log into every commit of sessions of this class (idempotent)."""
    if not event.contains(session_class, "before_commit", write_pending):
        event.listen(session_class, "before_commit", write_pending)
        event.listen(session_class, "after_transaction_end", _forget_on_end)
