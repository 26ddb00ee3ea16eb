"""Applying pulled changes to the local cache.

A page of changes and the cursor after it are stored in one transaction: killed
half-way, the tablet pulls the same page again. Every change is the server's
truth at its version, the device's own pushed changes included, so each replaces
the server's copy; the view is recomputed over the outbox, so a pending edit is
never overwritten (overlay.view). Entities this build does not know (consent
events, notices, later additions) are kept as they come, by entity and id.
"""

from __future__ import annotations

from typing import Any

from client import outbox
from client.api import PullPage
from client.store import LocalStore


def begin_snapshot(store: LocalStore) -> None:
    """Start pulling everything again from no cursor (first sync, or after a 410).

    Every cached record is marked stale until the snapshot brings it; what it never
    brings has left the device's scope (or was deleted, with its tombstone pruned)
    and is forgotten when the snapshot ends. The outbox is not touched.
    """
    with store.transaction():
        store.db.execute("UPDATE records SET stale = 1")
        for key in ("cursor", "etag"):
            store.set_state(key, None)
        store.set_state("snapshot", "1")


def apply_page(store: LocalStore, page: PullPage) -> None:
    with store.transaction():
        for change in page.changes:
            apply_change(store, change)
        store.set_state("cursor", page.next_cursor)
        store.set_state("etag", page.etag)
        if not page.has_more:
            _caught_up(store)


def apply_change(store: LocalStore, change: dict[str, Any]) -> None:
    """One pulled change (or a record fetched by a lookup). In a transaction."""
    record = None if change["op"] == "delete" else change["record"]
    if record is None and change.get("reason") == "erased":
        outbox.forget_erased(store, change["entity"], change["id"])
    store.put_server_copy(change["entity"], change["id"], change.get("version"), record,
                          stale=False)


def nothing_new(store: LocalStore) -> None:
    """The server answered 304: the cache holds everything committed up to now."""
    with store.transaction():
        _caught_up(store)


def _caught_up(store: LocalStore) -> None:
    """Everything committed before this pull is now in the cache, our pushes included."""
    if store.state("snapshot"):
        stale = store.db.execute("SELECT entity, id, version FROM records WHERE stale = 1")
        for entity, record_id, version in stale.fetchall():
            store.put_server_copy(entity, record_id, version, None, stale=False)
        store.set_state("snapshot", None)
    store.db.execute("UPDATE records SET awaiting_pull = 0 WHERE awaiting_pull = 1")
