"""What the client's tests check again and again: a tablet's cache against a fresh
snapshot from the server, and what the server's database holds."""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa

from client.api import ServerApi
from client.sync import SyncEngine, SyncReport
from client.tablet import Tablet
from client.transport import RetryPolicy, Transport
from server.sync.models import AppliedMutation

Key = tuple[str, str]


def sync(tablet: Tablet, **options: Any) -> SyncReport:
    return SyncEngine(tablet.store, tablet.api, **options).sync()


def snapshot(server: str, token: str, page_size: int = 1000) -> dict[Key, tuple[int, dict]]:
    """Everything in the key's scope, pulled with no cursor straight from the server."""
    api = ServerApi(Transport(server, token, retry=RetryPolicy(attempts=1)))
    records: dict[Key, tuple[int, dict]] = {}
    cursor = None
    for _ in range(10_000):
        page = api.pull(cursor, page_size)
        for change in page.changes:
            records[(change["entity"], change["id"])] = (change["version"], change["record"])
        cursor = page.next_cursor
        if not page.has_more:
            api.transport.close()
            return records
    raise AssertionError("the snapshot never ended")


def cache(tablet: Tablet) -> dict[Key, tuple[int | None, dict | None, dict | None]]:
    rows = tablet.store.db.execute("SELECT entity, id, version, server, body FROM records")
    return {(r["entity"], r["id"]): (r["version"], _json(r["server"]), _json(r["body"]))
            for r in rows}


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def assert_cache_is_the_servers(tablet: Tablet, server: str) -> None:
    """The tablet holds exactly the server's view of its scope, at the same versions,
    and shows it as it is (nothing left in the outbox to lay on top)."""
    expected = snapshot(server, tablet.config.key)
    held = cache(tablet)
    assert set(held) == set(expected), (
        f"missing {sorted(set(expected) - set(held))[:5]}, "
        f"extra {sorted(set(held) - set(expected))[:5]}")
    for key, (version, record) in expected.items():
        assert held[key] == (version, record, record), key


def applied_on_server(session) -> dict[str, str]:
    """mutation id → device id, for every mutation the server has applied."""
    session.close()  # see what the server committed since
    rows = session.execute(sa.select(AppliedMutation.mutation_id, AppliedMutation.device_id))
    return {str(mutation_id): str(device_id) for mutation_id, device_id in rows}


def on_server(session, model, record_id: str):
    """The record as the server's database holds it now (None if it has none)."""
    session.close()
    return session.get(model, uuid.UUID(record_id))
