"""The outbox: at commit, each change the CRM feed carries becomes one pending delivery
per active subscription that wants its event, in the same transaction as the change.

So a delivery exists if and only if its change committed: a rollback takes both
away, and a crash after COMMIT loses neither. Payloads carry ids, never personal
data: a receiver fetches what it needs with its own key (and its own scope).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.changelog.models import PER_CUSTOMER, PER_STORE
from server.core.types import ordered_id
from server.webhooks.models import WebhookDelivery, WebhookSubscription

ENTITIES = ("customer", "consent", "request", "note")
EVENTS = (*(f"{entity}.{what}" for entity in ENTITIES for what in ("changed", "deleted")),
          "customer.erased", "customer.merged")
EVERY_EVENT = "*"
_ACTIVE = sa.select(WebhookSubscription.id, WebhookSubscription.events).where(
    WebhookSubscription.active)


def carried(change: dict[str, Any]) -> bool:
    """Whether the CRM feed carries this change (notices and store copies it does not)."""
    entity = change["entity"]
    return (entity in PER_CUSTOMER and change["store_id"] is None) or entity in PER_STORE


def event_type(change: dict[str, Any]) -> str:
    """A note flagged sensitive is never the CRM's: as in the feed, it is a deletion."""
    entity = change["entity"]
    withheld = entity == "note" and (change["body"] or {}).get("sensitive")
    if change["op"] != "delete" and not withheld:
        return f"{entity}.changed"
    if entity == "customer" and change["reason"] in ("erased", "merged"):
        return f"customer.{change['reason']}"
    return f"{entity}.deleted"


def wants(events: Iterable[str], event: str) -> bool:
    return EVERY_EVENT in events or event in events


def payload(delivery_id: uuid.UUID, event: str, change: dict[str, Any]) -> dict[str, Any]:
    customer_id = change["customer_id"]
    merged = {"merged_into": (change["body"] or {}).get("merged_into")} \
        if event == "customer.merged" else {}
    return {"delivery_id": str(delivery_id), "event": event, "entity": change["entity"],
            "id": str(change["record_id"]),
            "customer_id": str(customer_id) if customer_id else None,
            "version": change["version"], "seq": change["seq"],
            "occurred_at": change["committed_at"].isoformat()} | merged


def enqueue(session: Session, changes: list[dict[str, Any]]) -> None:
    """Write the deliveries for these change rows (as the change log inserts them).

    One query per commit that has events, for the active subscriptions: a cache could
    miss a subscription another process made a moment ago, and its events with it.
    """
    events = [(change, event_type(change)) for change in changes if carried(change)]
    if not events:
        return
    # On the connection: plain columns need none of the ORM's work around a statement.
    subscriptions = session.connection().execute(_ACTIVE).all()
    rows = [_delivery(subscription_id, change, event)
            for subscription_id, wanted in subscriptions
            for change, event in events if wants(wanted, event)]
    if rows:
        session.execute(sa.insert(WebhookDelivery), rows)


def _delivery(subscription_id: uuid.UUID, change: dict[str, Any], event: str) -> dict[str, Any]:
    delivery_id = ordered_id()  # time-ordered, as the column's default
    now = change["committed_at"]
    return {"id": delivery_id, "subscription_id": subscription_id, "seq": change["seq"],
            "event": event, "payload": payload(delivery_id, event, change),
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
            "version": 1}
