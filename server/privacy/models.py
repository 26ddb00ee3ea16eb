from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, new_id, ordered_id, utcnow
from server.extensions import db


class PrivacyRequest(db.Model):
    """A customer's request to see (access) or erase their data, due within a month."""

    __tablename__ = "privacy_requests"
    __table_args__ = (sa.Index("ix_privacy_requests_status_due", "status", "due_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(10))  # access | erasure
    status: Mapped[str] = mapped_column(sa.String(10), default="open")  # open | completed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class AccessEntry(db.Model):
    """Who read, searched, exported or changed a customer's data, when, from where.

    Never the data itself: the customer's id, what kind of thing was touched, and the
    key that did it (with its store and device, for tablets).
    """

    __tablename__ = "access_log"
    __table_args__ = (sa.Index("ix_access_log_customer_at", "customer_id", "at"),)

    # Time-ordered (UUID version 7): the log only grows, at the end of its key's index.
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=ordered_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    action: Mapped[str] = mapped_column(sa.String(10))  # read search export change erase
    what: Mapped[str] = mapped_column(sa.String(40))    # e.g. customer, sync pull, feed
    scope: Mapped[str] = mapped_column(sa.String(16))
    key_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    store_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ErasurePropagation(db.Model):
    """One downstream system that must apply an erasure, until it says it has: the CRM
    (acknowledging through the API) and each webhook subscriber (by taking the
    `customer.erased` delivery with a 2xx)."""

    __tablename__ = "erasure_propagation"
    __table_args__ = (sa.UniqueConstraint("customer_id", "system",
                                          name="uq_erasure_propagation_customer_system"),
                      sa.Index("ix_erasure_propagation_pending", "acknowledged_at"))

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    system: Mapped[str] = mapped_column(sa.String(80))  # "crm", "webhook <subscription>"
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
