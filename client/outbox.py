"""The outbox: every captured mutation, kept until the server has answered for it.

A mutation's id is fixed when it is captured, so sending it again after a lost
answer is harmless (the server answers `duplicate`). It leaves the outbox only
on `applied` or `duplicate`. A `rejected` one waits in "needs attention" with the
server's field errors until the associate fixes and re-queues or discards it; a
`conflict` waits with both versions until the associate picks one (see
`settle` for the cases decided without asking).

The base-version rule (what stops one tablet silently overwriting another): a
mutation carries the version of the record its associate was looking at when they
made it (`base_version`, taken at capture; a later pull never moves it), and the
values of the fields it changes as they saw them (`seen`). The server answers
`conflict` for a field someone else changed since that version; the tablet then
sends it again by itself only where the server's value is the one the associate
saw (their own earlier edit, which the view already showed), and otherwise asks
the associate. An edit made on top of the tablet's own unsent creation has no
server version yet: it takes the version the creation is applied at. When one of
our mutations is applied at exactly the next version of its base, the later ones
captured on the same view move on to that version (nobody else wrote in between).

Mutations of one record go in capture order. Edits of different fields of one
record may share a push; two edits of the same field may not, or the second would
conflict with the first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from client import overlay
from client.errors import NotInOutbox
from client.store import LocalStore, OutboxRow, dumps

# A request is final once closed (server/customer_requests/lifecycle.py).
CLOSED = frozenset({"fulfilled", "cancelled", "expired"})
# Fields that only make sense with another: a reason goes with its status.
_GOES_WITH = {"status": ("reason", "changed_by")}


@dataclass(frozen=True)
class Outgoing:
    row: OutboxRow
    base_version: int | None

    def wire(self) -> dict[str, Any]:
        row = self.row
        return {"mutation_id": row.mutation_id, "entity": row.entity, "op": row.op,
                "id": row.record_id, "base_version": self.base_version, "fields": row.fields,
                "captured_at": row.captured_at, "captured_by": row.captured_by}


def capture(store: LocalStore, entity: str, op: str, record_id: str, fields: dict[str, Any],
            captured_by: str | None) -> str:
    """Queue a mutation and show it at once. Returns its mutation id."""
    mutation_id = str(uuid.uuid4())
    with store.transaction():
        cached = store.cached(entity, record_id)
        creates = op != "delete" and cached is None
        base = None if creates or cached is None else _base_seen(
            cached.version, store.outbox_for(entity, record_id), op, fields)
        store.db.execute(
            "INSERT INTO outbox (mutation_id, entity, op, record_id, fields, captured_at, "
            "captured_by, creates, base_version, seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (mutation_id, entity, op, record_id, dumps(fields),
             datetime.now(UTC).isoformat(timespec="milliseconds"), captured_by, int(creates),
             base, dumps(_seen(entity, op, fields, cached.body if cached else None))))
        store.refresh_view(entity, record_id)
    return mutation_id


def _base_seen(version: int | None, queued: list[OutboxRow], op: str,
               fields: dict[str, Any]) -> int | None:
    """The version the associate's view stood on, for these fields: the copy's, or, where
    one of our queued mutations shows its own value of a field over the copy, the older
    version that one stood on (what the copy had there is unseen). None: not known yet."""
    bases = [version] + [row.base_version for row in queued
                         if op == "delete" or row.op == "delete"
                         or not set(row.fields).isdisjoint(fields)]
    return None if None in bases else min(bases)


def _seen(entity: str, op: str, fields: dict[str, Any],
          shown: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the associate was looking at: the record, for a delete; the fields they
    changed, for an edit (a creation or an event has nothing before it)."""
    if shown is None or op == "append":
        return None
    if op == "delete":
        return shown
    return {name: shown.get(overlay.field_name(entity, name)) for name in fields
            if overlay.in_record(entity, name)}


# -- what to send next -------------------------------------------------------------------

def next_batch(store: LocalStore, limit: int) -> list[Outgoing]:
    """The next mutations that may be sent, at most `limit`, in capture order."""
    held: set[tuple[str, str]] = set()  # records whose next mutation must wait
    # Fields sent so far in this batch, per record; None: nothing more of it may join.
    sent: dict[tuple[str, str], frozenset[str] | None] = {}
    batch: list[Outgoing] = []
    for row in store.outbox():
        key = (row.entity, row.record_id)
        if key in held:
            continue
        may_go = _may_join(row, sent[key]) if key in sent else _may_lead(row)
        if not may_go:
            held.add(key)
            continue
        batch.append(Outgoing(row, None if row.creates else row.base_version))
        ends = row.creates or row.op != "upsert"
        sent[key] = None if ends else (sent.get(key) or frozenset()) | frozenset(row.fields)
        if len(batch) == limit:
            break
    return batch


def _may_lead(row: OutboxRow) -> bool:
    """The first mutation of its record in this push. One waiting for the associate holds
    back every later one of its record; one made on top of our own creation waits until
    the creation is applied (and gives it its version)."""
    return row.state == "pending" and (row.creates or row.base_version is not None)


def _may_join(row: OutboxRow, fields_sent: frozenset[str] | None) -> bool:
    """A later mutation of a record already in this push: only an edit of other fields."""
    return (row.state == "pending" and fields_sent is not None and row.op == "upsert"
            and not row.creates and fields_sent.isdisjoint(row.fields))


# -- what the server answered ------------------------------------------------------------

def settle(store: LocalStore, batch: list[Outgoing], results: list[dict[str, Any]]) -> None:
    """Record the server's answers to a push, all in one transaction."""
    with store.transaction():
        touched = set()
        for outgoing, result in zip(batch, results, strict=True):
            row = store.outbox_row(outgoing.row.mutation_id)
            if row is None:
                continue  # settled already by an earlier answer in this push (record gone)
            status = result.get("status")
            if status in ("applied", "duplicate"):
                # Unchanged: the version is not one this mutation made (see _follow_on).
                _applied(store, row, None if result.get("unchanged") else result.get("version"))
            elif status == "conflict":
                _conflict(store, row, result)
            elif status == "rejected" and not result.get("retry"):
                _set(store, row, state="attention", errors=dumps(result.get("errors") or {}))
            # A rejection marked `retry` (written concurrently) stays pending: sent again.
            touched.add((row.entity, row.record_id))
        for entity, record_id in touched:
            store.refresh_view(entity, record_id)


def _applied(store: LocalStore, row: OutboxRow, version: int | None) -> None:
    store.db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
    _follow_on(store, row, version)
    cached = store.cached(row.entity, row.record_id)
    known = cached.version if cached else None
    if row.op == "delete":
        store.put_server_copy(row.entity, row.record_id, known, None)
    elif version is not None and (known is None or version > known):
        # On the server, not yet in our copy: lay it on the copy until the pull brings
        # the server's own. Applied on our copy's version at the very next one, or as a
        # creation (a copy with no version), the copy is the server's at that version, as
        # far as the tablet edits it; else it keeps the version it had (what it shows
        # beyond is ours, not all of the server's).
        exact = known is None or (known == row.base_version and version == known + 1)
        server = overlay.apply(cached.server if cached else None, row.as_mutation)
        store.put_server_copy(row.entity, row.record_id, version if exact else known, server,
                              awaiting_pull=True)


def _follow_on(store: LocalStore, row: OutboxRow, version: int | None) -> None:
    """The later mutations of the record captured on the view this one was part of now
    stand on the version it was applied at: those made on our unsent creation, and, when
    nobody else wrote in between (applied at exactly the next version), those captured
    on the same base."""
    if version is None:
        return
    exact = row.base_version is not None and version == row.base_version + 1
    store.db.execute(
        "UPDATE outbox SET base_version = ? WHERE entity = ? AND record_id = ? AND seq > ? "
        "AND creates = 0 AND (base_version IS NULL OR (? AND base_version = ?))",
        (version, row.entity, row.record_id, row.seq, int(exact), row.base_version))


def _conflict(store: LocalStore, row: OutboxRow, result: dict[str, Any]) -> None:
    """Park a conflict for the associate, except where one answer is the only safe one:

    - the server no longer has the record: a note another associate deleted waits for
      this one (keep theirs: let it go; keep mine: the note comes back with this text);
      anything else (an erased customer, their requests and notes) goes, with every later
      edit of it — an edit must never bring back an erased record;
    - a request the server has closed: a closed request is final, so its status stays
      and only the other fields are sent again (the server says if it refuses them);
    - every field in conflict holds on the server what the associate saw (our own
      earlier edit, already in the view): nobody else's value is replaced, so it is
      sent again on the server's version.
    """
    theirs = result.get("record")
    conflicts = result.get("conflicts") or []
    if theirs is None and _restorable(store, row):
        _set(store, row, state="conflict", conflicts=dumps([]), theirs=None)
    elif theirs is None:
        _let_go(store, row)
    elif row.entity == "request" and "status" in conflicts and theirs.get("status") in CLOSED:
        _send_again(store, row, _without(row.fields, ["status"]), theirs.get("version"))
    elif conflicts and _saw_theirs(row, theirs, conflicts):
        _send_again(store, row, row.fields, theirs.get("version"))
    else:
        _set(store, row, state="conflict", conflicts=dumps(conflicts), theirs=dumps(theirs))


def _restorable(store: LocalStore, row: OutboxRow) -> bool:
    """An edited note deleted on the server, whose customer this tablet still holds (an
    erased customer is gone from the tablet too)."""
    shown = store.shown(row.entity, row.record_id) if row.entity == "note" else None
    return (row.op == "upsert" and not row.creates and shown is not None
            and store.shown("customer", str(shown.get("customer_id"))) is not None)


def _let_go(store: LocalStore, row: OutboxRow) -> None:
    """The record is gone from the server: so are our edits of it (a delete of ours still
    goes, and is answered as done)."""
    store.db.execute("DELETE FROM outbox WHERE entity = ? AND record_id = ? AND op != 'delete'",
                     (row.entity, row.record_id))
    cached = store.cached(row.entity, row.record_id)
    store.put_server_copy(row.entity, row.record_id, cached.version if cached else None, None)


def forget_erased(store: LocalStore, entity: str, record_id: str) -> None:
    """A pull says this record was erased: every mutation of it goes, unasked, and for a
    customer every mutation of their requests, notes and consent too — an erasure is
    never undone, and the tablet keeps nothing of what it cleared. In a transaction."""
    doomed = [(entity, record_id)]
    if entity == "customer":
        doomed += [(row.entity, row.record_id) for row in store.outbox()
                   if _belongs_to(store, row, record_id)]
    for doomed_entity, doomed_id in set(doomed):
        store.db.execute("DELETE FROM outbox WHERE entity = ? AND record_id = ?",
                         (doomed_entity, doomed_id))
        store.refresh_view(doomed_entity, doomed_id)


def _belongs_to(store: LocalStore, row: OutboxRow, customer_id: str) -> bool:
    shown = store.shown(row.entity, row.record_id) or {}
    return customer_id in (str(row.fields.get("customer_id")), str(shown.get("customer_id")))


def _saw_theirs(row: OutboxRow, theirs: dict[str, Any], conflicts: list[str]) -> bool:
    seen = row.seen or {}
    names = {name: name if row.op == "delete" else overlay.field_name(row.entity, name)
             for name in conflicts}
    return all(name in seen and seen[name] == theirs.get(names[name]) for name in conflicts)


def _without(fields: dict[str, Any], names: list[str]) -> dict[str, Any]:
    dropped = set(names).union(*(_GOES_WITH.get(name, ()) for name in names))
    return {name: value for name, value in fields.items() if name not in dropped}


def _send_again(store: LocalStore, row: OutboxRow, fields: dict[str, Any],
                base_version: int | None, seen: dict[str, Any] | None = None) -> str | None:
    """The rest of a mutation as a new one (new content, new id), in the same place.
    An edit left with no fields is done with; a delete always goes again."""
    if not fields and row.op == "upsert":
        store.db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
        return None
    mutation_id = str(uuid.uuid4())
    _set(store, row, mutation_id=mutation_id, fields=dumps(fields), state="pending",
         base_version=base_version, seen=dumps(row.seen if seen is None else seen),
         errors=None, conflicts=None, theirs=None)
    return mutation_id


def _set(store: LocalStore, row: OutboxRow, **columns: Any) -> None:
    assignments = ", ".join(f"{name} = ?" for name in columns)
    store.db.execute(f"UPDATE outbox SET {assignments} WHERE seq = ?",  # noqa: S608
                     (*columns.values(), row.seq))


# -- what the associate decides ------------------------------------------------------------

def _waiting(store: LocalStore, mutation_id: str, state: str) -> OutboxRow:
    row = store.outbox_row(mutation_id)
    if row is None or row.state != state:
        raise NotInOutbox(f"No mutation {mutation_id} in {state}.")
    return row


def requeue(store: LocalStore, mutation_id: str, fixes: dict[str, Any] | None = None) -> str:
    """Send a rejected mutation again, with the associate's fixes; returns its new id."""
    with store.transaction():
        row = _waiting(store, mutation_id, "attention")
        new_id = _send_again(store, row, row.fields | (fixes or {}), row.base_version)
        store.refresh_view(row.entity, row.record_id)
    return new_id


def discard(store: LocalStore, mutation_id: str) -> None:
    """Drop a mutation that needs attention or is in conflict: the associate gives it up.
    Giving up the creation of a record gives up the record, and so its later edits."""
    with store.transaction():
        row = store.outbox_row(mutation_id)
        if row is None or row.state == "pending":
            raise NotInOutbox(f"No mutation {mutation_id} needing attention or in conflict.")
        if row.creates:
            store.db.execute("DELETE FROM outbox WHERE entity = ? AND record_id = ?",
                             (row.entity, row.record_id))
        else:
            store.db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))
        store.refresh_view(row.entity, row.record_id)


KEEP = ("mine", "theirs", "merge")


def resolve(store: LocalStore, mutation_id: str, keep: str,
            values: dict[str, Any] | None = None) -> str | None:
    """Settle a conflict, now that the associate has seen their version:

    - "mine": the mutation as it was (an edit, a status step, a delete), sent again on
      their version;
    - "theirs": the fields both sides changed are dropped and what the associate changed
      alone is sent again (never lost); a delete is given up and the record stays;
    - "merge": `values` for the fields in conflict (what the associate settled on, from
      either side or new) with what they changed alone. A delete has nothing to merge.

    Returns the new mutation id, if anything is sent again.
    """
    if keep not in KEEP:
        raise ValueError(f"keep is one of: {', '.join(KEEP)}")
    with store.transaction():
        row = _waiting(store, mutation_id, "conflict")
        if row.theirs is None:
            return _deleted_meanwhile(store, row, keep)
        theirs, conflicts = row.theirs, row.conflicts or []
        fields = _resolved(row, keep, conflicts, values)
        new_id = (_give_up(store, row) if fields is None else _send_again(
            store, row, fields, theirs.get("version"), _seen(row.entity, row.op, fields, theirs)))
        if keep != "mine":
            _show_theirs(store, row, theirs, conflicts)
        store.refresh_view(row.entity, row.record_id)
    return new_id


# What a note is created from, when the associate keeps their edit of one deleted meanwhile.
_NOTE_CREATED_FROM = ("customer_id", "request_id", "body")


def _deleted_meanwhile(store: LocalStore, row: OutboxRow, keep: str) -> str | None:
    """Their side is a delete: let the note go, or bring it back as the associate has it,
    as a new note (a new id: a tablet still holding an edit of the deleted one is told
    too, rather than writing over this one unseen). Later edits of it follow."""
    if keep == "merge":
        raise ValueError("The note was deleted meanwhile: nothing to merge with. Keep yours "
                         "(the note comes back) or theirs (it stays deleted).")
    if keep == "theirs":
        _let_go(store, row)
        return None
    shown = store.shown(row.entity, row.record_id) or {}
    # What it held at this edit (later queued edits follow it), not the latest view.
    fields = {name: shown.get(name) for name in _NOTE_CREATED_FROM
              if shown.get(name) is not None} | row.fields
    mutation_id, record_id = str(uuid.uuid4()), str(uuid.uuid4())
    _set(store, row, mutation_id=mutation_id, record_id=record_id, fields=dumps(fields),
         creates=1, base_version=None, seen=None, state="pending", conflicts=None, theirs=None)
    store.db.execute("UPDATE outbox SET record_id = ?, base_version = NULL WHERE entity = ? "
                     "AND record_id = ? AND seq > ?",
                     (record_id, row.entity, row.record_id, row.seq))
    _let_go(store, row)
    store.refresh_view(row.entity, record_id)
    return mutation_id


def _resolved(row: OutboxRow, keep: str, conflicts: list[str],
              values: dict[str, Any] | None) -> dict[str, Any] | None:
    """The fields to send again; None: nothing (a delete given up)."""
    if keep == "mine":
        return row.fields
    if row.op == "delete":
        if keep == "merge":
            raise ValueError("A delete has nothing to merge: keep yours or theirs.")
        return None
    if keep == "theirs":
        return _without(row.fields, conflicts)
    chosen = values or {}
    unknown = sorted(set(chosen) - set(conflicts))
    if unknown or not chosen:
        raise ValueError("A merge gives values for the fields in conflict only "
                         f"({', '.join(conflicts)}).")
    return _without(row.fields, conflicts) | chosen


def _give_up(store: LocalStore, row: OutboxRow) -> None:
    store.db.execute("DELETE FROM outbox WHERE seq = ?", (row.seq,))


def _show_theirs(store: LocalStore, row: OutboxRow, theirs: dict, conflicts: list) -> None:
    """Their values in the server's copy until the next pull brings the whole record."""
    cached = store.cached(row.entity, row.record_id)
    if cached is None or cached.server is None or (cached.version or 0) >= theirs["version"]:
        return
    server = cached.server | {name: theirs[name] for name in conflicts if name in theirs}
    store.put_server_copy(row.entity, row.record_id, cached.version, server)
