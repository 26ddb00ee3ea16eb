"""The rules for subscriptions: who may manage them, what they receive, replays."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from server.core import paging
from server.core.actor import Actor
from server.core.errors import Conflict, NotFound
from server.core.types import utcnow
from server.core.versioning import check_version
from server.stores import permissions
from server.webhooks import signing
from server.webhooks.models import WebhookDelivery, WebhookSubscription
from server.webhooks.outbox import EVERY_EVENT

STATUSES = ("pending", "sending", "delivered", "dead")


def create(session: Session, actor: Actor, data: dict[str, Any], *, master_key: str,
           default_max_attempts: int) -> tuple[WebhookSubscription, str]:
    """A new subscription, and its signing secret: derived from the master key, never
    stored, so this is the only time anyone sees it. Events from now on."""
    permissions.require(actor, "webhooks:admin")
    subscription = WebhookSubscription(
        url=data["url"], events=_events(data["events"]), active=True,
        max_attempts=data.get("max_attempts") or default_max_attempts)
    session.add(subscription)
    session.flush()
    return subscription, signing.secret(master_key, subscription.id)


def _events(events: list[str]) -> list[str]:
    return [EVERY_EVENT] if EVERY_EVENT in events else sorted(set(events))


def get(session: Session, subscription_id: uuid.UUID) -> WebhookSubscription:
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None:
        raise NotFound("No such webhook subscription.")
    return subscription


def find(session: Session, limit: int,
         after: str | None) -> tuple[list[WebhookSubscription], str | None]:
    """Subscriptions, newest first, in keyset pages."""
    query = sa.select(WebhookSubscription)
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(WebhookSubscription.created_at, WebhookSubscription.id)
                            < tuple(last))
    query = query.order_by(WebhookSubscription.created_at.desc(),
                           WebhookSubscription.id.desc())
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda s: [s.created_at.isoformat(), str(s.id)])


def deactivate(session: Session, actor: Actor, subscription_id: uuid.UUID,
               expected_version: int | None = None) -> WebhookSubscription:
    """No new deliveries, and none of those waiting are sent; the log stays readable.
    Deactivating twice is the same as once."""
    permissions.require(actor, "webhooks:admin")
    subscription = get(session, subscription_id)
    check_version(subscription, expected_version)
    if subscription.active:
        subscription.active, subscription.deactivated_at = False, utcnow()
        session.flush()
    return subscription


def replay(session: Session, actor: Actor, subscription_id: uuid.UUID, from_seq: int = 0,
           dead_only: bool = False) -> int:
    """Send again the subscription's deliveries of changes from `from_seq` on — delivered,
    dead or still waiting, or only the dead ones — as soon as a worker is free, with
    their attempts starting afresh. Deliveries being sent are left to their worker.
    Each keeps its delivery id, so a receiver that already has one can tell."""
    permissions.require(actor, "webhooks:admin")
    subscription = get(session, subscription_id)
    if not subscription.active:
        raise Conflict("This subscription is inactive: nothing would be sent.")
    statuses = ("dead",) if dead_only else ("pending", "delivered", "dead")
    statement = (sa.update(WebhookDelivery)
                 .where(WebhookDelivery.subscription_id == subscription.id,
                        WebhookDelivery.seq >= from_seq,
                        WebhookDelivery.status.in_(statuses))
                 .values(status="pending", attempts=0, next_attempt_at=utcnow(),
                         lease_until=None, version=WebhookDelivery.version + 1)
                 .execution_options(synchronize_session=False))
    return session.execute(statement).rowcount


def deliveries(session: Session, subscription_id: uuid.UUID, status: str | None, limit: int,
               after: str | None) -> tuple[list[WebhookDelivery], str | None]:
    """The subscription's deliveries, newest first, each with its attempts."""
    get(session, subscription_id)
    query = (sa.select(WebhookDelivery).options(selectinload(WebhookDelivery.log))
             .where(WebhookDelivery.subscription_id == subscription_id))
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(WebhookDelivery.created_at, WebhookDelivery.id)
                            < tuple(last))
    query = query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
    rows = list(session.scalars(query.limit(limit + 1)))
    return paging.page(rows, limit, lambda d: [d.created_at.isoformat(), str(d.id)])
