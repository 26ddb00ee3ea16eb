"""Building pushes the way a tablet does."""

from __future__ import annotations

import uuid
from typing import Any


def mutation(entity: str, record_id=None, fields: dict | None = None, *, op: str = "upsert",
             base_version: int | None = None, **extra: Any) -> dict[str, Any]:
    return {"mutation_id": str(uuid.uuid4()), "entity": entity, "op": op,
            "id": str(record_id or uuid.uuid4()), "base_version": base_version,
            "fields": fields or {}, "captured_at": "2026-11-23T10:04:00+00:00",
            "captured_by": "A-117"} | extra


def new_customer(**fields) -> dict[str, Any]:
    return mutation("customer", fields={"given_name": "Ada"} | fields)


def new_request(customer_id, **fields) -> dict[str, Any]:
    return mutation("request", fields={"customer_id": str(customer_id), "type": "hold",
                                       "description": "Coat until Saturday"} | fields)


def push(client, tablet, mutations: list[dict]) -> list[dict]:
    response = client.post("/api/v1/sync/push", headers=tablet.headers,
                           json={"device_id": str(tablet.actor.device_id),
                                 "mutations": mutations})
    assert response.status_code == 200, response.json
    return response.json["results"]


def pull_all(client, tablet, cursor: str | None = None, limit: int = 500):
    """Pull until has_more is false; returns (changes, cursor)."""
    changes = []
    for _ in range(1000):
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/v1/sync/pull", query_string=query, headers=tablet.headers)
        assert response.status_code == 200, response.json
        changes += response.json["changes"]
        cursor = response.json["next_cursor"]
        if not response.json["has_more"]:
            return changes, cursor
    raise AssertionError("pull never finished")
