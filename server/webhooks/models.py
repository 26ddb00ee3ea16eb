from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.core.types import UTCDateTime, new_id, ordered_id, utcnow
from server.extensions import db


class WebhookSubscription(db.Model):
    """A receiver of events. Its signing secret is derived from the server's master key
    and its id (see webhooks.signing), so no secret is stored anywhere."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    url: Mapped[str] = mapped_column(sa.String(2000))
    events: Mapped[list] = mapped_column(sa.JSON)  # event types; "*" for all
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    max_attempts: Mapped[int] = mapped_column(sa.Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class WebhookDelivery(db.Model):
    """One event for one subscription: the outbox, written in the transaction of the change.

    pending → sending (leased to one worker) → delivered | pending again (retry, with
    backoff) | dead (out of attempts; a replay makes it pending again).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "seq"),
        sa.CheckConstraint("status IN ('pending', 'sending', 'delivered', 'dead')",
                           name="status"),
        # The workers' scans: pending ones that are due, and leases that ran out.
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_lease", "status", "lease_until"),
        sa.Index("ix_webhook_deliveries_listed", "subscription_id", "created_at", "id"),
    )

    # Time-ordered (core.types.ordered_id): the log only grows, at its index's end.
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=ordered_id)
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id"))
    seq: Mapped[int] = mapped_column(sa.BigInteger)  # the change's position in the log
    event: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[dict] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)  # started, not finished
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(80))  # the worker's id
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    # Read for the delivery log (workers write attempts directly).
    log: Mapped[list[WebhookAttempt]] = relationship(
        viewonly=True, order_by=lambda: (WebhookAttempt.at, WebhookAttempt.number))


class WebhookAttempt(db.Model):
    """Each POST made, whatever came of it: the delivery log of a subscription. Errors
    are short codes (`timeout`, `http_500`), never a receiver's answer or a payload."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (sa.Index("ix_webhook_attempts_delivery", "delivery_id", "number"),
                      sa.Index("ix_webhook_attempts_subscription", "subscription_id", "at"))

    # Time-ordered (core.types.ordered_id): the log only grows, at its index's end.
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=ordered_id)
    delivery_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("webhook_deliveries.id"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("webhook_subscriptions.id"))
    number: Mapped[int] = mapped_column(sa.Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(200))
    duration_ms: Mapped[int] = mapped_column(sa.Integer)
