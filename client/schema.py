"""The tables of the tablet's SQLite file, made on first open.

`PRAGMA user_version` says which version of them a file has, so that a later build
can move an old file on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from client import lookup

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE records (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER,            -- version of `server`, as last pulled; NULL: never pulled
    server TEXT,                -- the server's copy (JSON); NULL: the server has none
    body TEXT,                  -- what the tablet shows (overlay.view); NULL: deleted
    awaiting_pull INTEGER NOT NULL DEFAULT 0,  -- our push changed it since the last pull
    stale INTEGER NOT NULL DEFAULT 0,          -- not seen yet by the snapshot under way
    PRIMARY KEY (entity, id)
) WITHOUT ROWID;
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    mutation_id TEXT NOT NULL UNIQUE,
    entity TEXT NOT NULL,
    op TEXT NOT NULL,
    record_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    captured_at TEXT NOT NULL,
    captured_by TEXT,
    creates INTEGER NOT NULL,   -- first mutation of a record new to the server
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'attention', 'conflict')),
    base_version INTEGER,       -- the version the associate's view stood on when captured;
                                -- NULL: a creation, or after one of ours not yet applied
    seen TEXT,                  -- the changed fields' values the associate saw (JSON)
    errors TEXT,                -- attention: the server's field errors
    conflicts TEXT,             -- conflict: the fields both sides changed
    theirs TEXT                 -- conflict: the server's record
);
CREATE INDEX outbox_by_record ON outbox (entity, record_id, seq);
CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
""" + lookup.SCHEMA


def _statements(script: str) -> Iterator[str]:
    """One statement at a time (executescript would COMMIT the open transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""


# Version 1 took an edit's base from the cache when it was sent. Its queued edits keep
# that rule's best guess, taken now (nothing newer can be pulled under them from here on).
_TO_2 = """
ALTER TABLE outbox ADD COLUMN seen TEXT;
UPDATE outbox SET base_version = (SELECT r.version FROM records r
    WHERE r.entity = outbox.entity AND r.id = outbox.record_id)
    WHERE base_version IS NULL AND creates = 0;
"""


def create(db: sqlite3.Connection) -> None:
    """Make the tables in a new file, or move an older file on (in a transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == 0:
        for statement in _statements(SCHEMA):
            db.execute(statement)
    elif version == 1:
        for statement in _statements(_TO_2):
            db.execute(statement)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
