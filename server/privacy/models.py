from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, new_id, utcnow
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
