"""The server's API v1 as the tablet uses it: who am I, push, pull, look up, hold.

Answers are checked for the shape the engine relies on: a push answer that does
not account for every mutation sent is treated as no answer, so nothing leaves
the outbox on the strength of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from client.errors import NotATabletKey, Offline
from client.transport import Transport


@dataclass(frozen=True)
class Identity:
    """What a tablet key is bound to (GET /api/v1/me)."""

    device_id: str
    store_id: str
    store_code: str
    country: str


@dataclass(frozen=True)
class PullPage:
    changes: list[dict[str, Any]]
    next_cursor: str
    has_more: bool
    etag: str | None


class ServerApi:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def identity(self) -> Identity:
        body = self.transport.call("GET", "/api/v1/me").body
        store = body.get("store") or {}
        if body.get("scope") != "tablet" or not body.get("device_id"):
            raise NotATabletKey("This key is not a tablet key: a tablet syncs with its own.")
        return Identity(body["device_id"], store["id"], store["code"], store["country"])

    def push(self, device_id: str, mutations: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One result per mutation, in order (SYNC.md)."""
        body = self.transport.call("POST", "/api/v1/sync/push",
                                   json={"device_id": device_id, "mutations": mutations}).body
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) != len(mutations) or any(
                not isinstance(r, dict) or r.get("mutation_id") != m["mutation_id"]
                for r, m in zip(results, mutations, strict=False)):
            raise Offline("The push answer does not match the mutations sent.")
        return results

    def pull(self, cursor: str | None, limit: int, etag: str | None = None) -> PullPage | None:
        """The next page after `cursor` (none: a snapshot); None when nothing changed."""
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        headers = {"If-None-Match": etag} if etag else None
        answer = self.transport.call("GET", "/api/v1/sync/pull", params=params, headers=headers)
        if answer.status == 304:
            return None
        body = answer.body
        if not isinstance(body, dict) or not isinstance(body.get("changes"), list) \
                or not isinstance(body.get("next_cursor"), str):
            raise Offline("The pull answer is not a page of changes.")
        return PullPage(body["changes"], body["next_cursor"], bool(body.get("has_more")),
                        answer.headers.get("ETag"))

    def find_customers(self, criteria: dict[str, str], limit: int = 20) -> list[dict[str, Any]]:
        """Customers on the server by email, phone, phone_suffix or name (any store)."""
        params = {key: value for key, value in criteria.items() if value} | {"limit": limit}
        return self.transport.call("GET", "/api/v1/customers", params=params).body["items"]

    def customer(self, customer_id: str) -> dict[str, Any]:
        return self.transport.call("GET", f"/api/v1/customers/{customer_id}").body

    def hold(self, customer_ids: list[str]) -> int:
        """Keep these customers on this store's tablets: their changes will be pulled."""
        body = self.transport.call("POST", "/api/v1/sync/hold",
                                   json={"customer_ids": customer_ids}).body
        return body["held"]
