"""The tablet's own SQLite file: cached records, the outbox, and the sync state.

Everything that must stay consistent changes in one SQLite transaction (a pulled
page and the cursor after it; a push's results and the outbox rows they settle;
a capture and the view it changes), so a kill at any moment leaves either the
state before or the state after, never a mix. WAL with `synchronous=FULL`: a
capture the associate saw saved survives a power cut as well as a crash.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from client import lookup, overlay, schema


@dataclass(frozen=True)
class Cached:
    version: int | None
    server: dict[str, Any] | None
    body: dict[str, Any] | None
    awaiting_pull: bool
    stale: bool


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    mutation_id: str
    entity: str
    op: str
    record_id: str
    fields: dict[str, Any]
    captured_at: str
    captured_by: str | None
    creates: bool
    state: str
    base_version: int | None
    seen: dict[str, Any] | None
    errors: Any
    conflicts: list[str] | None
    theirs: dict[str, Any] | None

    @property
    def as_mutation(self) -> overlay.Mutation:
        return overlay.Mutation(self.entity, self.op, self.record_id, self.fields, self.creates)


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"))


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _outbox_row(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(row["seq"], row["mutation_id"], row["entity"], row["op"],
                     row["record_id"], json.loads(row["fields"]), row["captured_at"],
                     row["captured_by"], bool(row["creates"]), row["state"],
                     row["base_version"], loads(row["seen"]),
                     loads(row["errors"]), loads(row["conflicts"]),
                     loads(row["theirs"]))


class LocalStore:
    """One tablet's file, through one SQLite connection: use an instance from one thread
    at a time (a UI and a background sync each open their own)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; `transaction()` says BEGIN.
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30,
                                  check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        with self.transaction():
            schema.create(self.db)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic unit of work. IMMEDIATE takes the write lock up front, so a
        capture and a sync in two processes queue rather than fail on upgrade."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- sync state ------------------------------------------------------------------

    def state(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_state(self, key: str, value: str | None) -> None:
        if value is None:
            self.db.execute("DELETE FROM sync_state WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)",
                            (key, value))

    def set_country(self, country: str) -> None:
        """The store's country; customers' phone search keys are read in it. In a
        transaction."""
        if country == self.region:
            return
        self.set_state("country", country)
        customers = self.db.execute("SELECT id, body FROM records WHERE entity = 'customer'")
        for row in customers.fetchall():
            lookup.index(self.db, loads(row["body"]), row["id"], country)

    @property
    def region(self) -> str | None:
        """The store's country: how a phone number written without +code is read."""
        return self.state("country")

    # -- cached records ----------------------------------------------------------------

    def cached(self, entity: str, record_id: str) -> Cached | None:
        row = self.db.execute(
            "SELECT version, server, body, awaiting_pull, stale FROM records "
            "WHERE entity = ? AND id = ?", (entity, record_id)).fetchone()
        if row is None:
            return None
        return Cached(row["version"], loads(row["server"]), loads(row["body"]),
                      bool(row["awaiting_pull"]), bool(row["stale"]))

    def shown(self, entity: str, record_id: str) -> dict[str, Any] | None:
        """The record as the tablet shows it; None if it has none (or it was deleted)."""
        cached = self.cached(entity, record_id)
        return cached.body if cached else None

    def records(self, entity: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM records WHERE entity = ? AND body IS NOT NULL "
                               "ORDER BY id", (entity,))
        return [json.loads(row[0]) for row in rows]

    def find_customers(self, criteria: dict[str, str], limit: int = 20) -> list[dict]:
        return lookup.find(self.db, criteria, self.region, limit)

    def put_server_copy(self, entity: str, record_id: str, version: int | None,
                        server: dict[str, Any] | None, *, awaiting_pull: bool | None = None,
                        stale: bool | None = None) -> None:
        """Store the server's copy and recompute the view over the outbox; flags not
        given stay as they were. In a transaction. A record that neither side holds
        any more is forgotten."""
        before = self.cached(entity, record_id)
        pending = self.outbox_for(entity, record_id)
        shown = before.body if before else None
        body = overlay.view(server, shown, (row.as_mutation for row in pending))
        if awaiting_pull is None:
            awaiting_pull = before.awaiting_pull if before else False
        if stale is None:
            stale = before.stale if before else False
        if server is None and body is None and not pending:
            self.db.execute("DELETE FROM records WHERE entity = ? AND id = ?",
                            (entity, record_id))
        else:
            server_text = dumps(server)
            body_text = server_text if body is server else dumps(body)  # mostly: once
            self.db.execute(
                "INSERT OR REPLACE INTO records (entity, id, version, server, body, "
                "awaiting_pull, stale) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entity, record_id, version, server_text, body_text, int(awaiting_pull),
                 int(stale)))
        if entity == "customer" and (before is None or before.body != body):
            lookup.index(self.db, body, record_id, self.region)

    def refresh_view(self, entity: str, record_id: str) -> None:
        """Recompute the view after the outbox changed. In a transaction."""
        cached = self.cached(entity, record_id)
        self.put_server_copy(entity, record_id, cached.version if cached else None,
                             cached.server if cached else None)

    # -- outbox ------------------------------------------------------------------------

    def outbox(self, state: str | None = None) -> list[OutboxRow]:
        """Mutations in capture order, all or those in one state."""
        if state is None:
            rows = self.db.execute("SELECT * FROM outbox ORDER BY seq")
        else:
            rows = self.db.execute("SELECT * FROM outbox WHERE state = ? ORDER BY seq", (state,))
        return [_outbox_row(row) for row in rows]

    def outbox_for(self, entity: str, record_id: str) -> list[OutboxRow]:
        rows = self.db.execute("SELECT * FROM outbox WHERE entity = ? AND record_id = ? "
                               "ORDER BY seq", (entity, record_id))
        return [_outbox_row(row) for row in rows]

    def outbox_row(self, mutation_id: str) -> OutboxRow | None:
        row = self.db.execute("SELECT * FROM outbox WHERE mutation_id = ?",
                              (mutation_id,)).fetchone()
        return _outbox_row(row) if row else None

    def counts(self) -> dict[str, int]:
        """How many mutations wait in each state."""
        rows = self.db.execute("SELECT state, count(*) FROM outbox GROUP BY state")
        return {"pending": 0, "attention": 0, "conflict": 0} | dict(rows.fetchall())
