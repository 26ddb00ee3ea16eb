"""Which downstream systems have applied an erasure, and which still must."""

from __future__ import annotations

import contextlib
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core.errors import NotFound
from server.core.types import utcnow
from server.privacy.models import ErasurePropagation
from server.webhooks.models import WebhookSubscription

CRM = "crm"


def webhook_system(subscription_id: uuid.UUID) -> str:
    return f"webhook {subscription_id}"


def open_for(session: Session, customer_id: uuid.UUID) -> list[str]:
    """At erasure: the CRM, and every active subscriber that will hear of it."""
    systems = [CRM]
    for subscription_id, events in session.execute(sa.select(
            WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.active)):
        if "*" in events or "customer.erased" in events:
            systems.append(webhook_system(subscription_id))
    session.add_all(ErasurePropagation(customer_id=customer_id, system=system)
                    for system in systems)
    return systems


def acknowledge(session: Session, customer_id: uuid.UUID, system: str) -> ErasurePropagation:
    record = session.scalar(sa.select(ErasurePropagation).where(
        ErasurePropagation.customer_id == customer_id, ErasurePropagation.system == system))
    if record is None:
        raise NotFound("No erasure of this customer is waiting for this system.")
    if record.acknowledged_at is None:
        record.acknowledged_at = utcnow()
    return record


def acknowledged_by_webhook(subscription_id: uuid.UUID, *, session: Session,
                            customer_id: uuid.UUID, **_) -> None:
    """On `erasure_acknowledged`: a subscriber took the customer's erasure (2xx)."""
    with contextlib.suppress(NotFound):
        acknowledge(session, customer_id, webhook_system(subscription_id))


def listing(session: Session, pending: bool | None, limit: int) -> list[ErasurePropagation]:
    query = sa.select(ErasurePropagation).order_by(ErasurePropagation.created_at)
    if pending is not None:
        query = query.where(ErasurePropagation.acknowledged_at.is_(None) if pending
                            else ErasurePropagation.acknowledged_at.is_not(None))
    return list(session.scalars(query.limit(limit)))
