from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.core.types import UTCDateTime, new_id, ordered_id, utcnow
from server.extensions import db


class CustomerRequest(db.Model):
    """Something a customer asked for, in one store."""

    __tablename__ = "requests"
    __table_args__ = (
        sa.Index("ix_requests_store_status_due", "store_id", "status", "due_date"),
        sa.Index("ix_requests_created", "created_at", "id"),
        # The dashboard's list, newest first: by store, by status, by associate; and
        # due dates in order.
        sa.Index("ix_requests_store_created", "store_id", "created_at", "id"),
        sa.Index("ix_requests_status_created", "status", "created_at", "id"),
        sa.Index("ix_requests_captured_by_created", "captured_by", "created_at", "id"),
        sa.Index("ix_requests_due", "due_date", "id"),
        sa.Index("ix_requests_closed", "closed_at"),  # the charts' fulfilment window
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    store_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("stores.id"))
    type: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="open")
    status_reason: Mapped[str | None] = mapped_column(sa.String(40))
    sku: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.String(500))
    size: Mapped[str | None] = mapped_column(sa.String(32))
    colour: Mapped[str | None] = mapped_column(sa.String(40))
    category: Mapped[str | None] = mapped_column(sa.String(40))  # e.g. "shoes": demand by kind
    quantity: Mapped[int] = mapped_column(sa.Integer, default=1)
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    notify_channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    captured_by: Mapped[str | None] = mapped_column(sa.String(32))
    key_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the key that captured it
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    # The version at which each field last changed: sync's per-field conflict check.
    field_versions: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    # The steps after the opening one. A request opens when it is captured: that step is
    # read from the request itself (`history`), not written as a row of its own, which
    # was one table's write of four on the capture path.
    steps: Mapped[list[StatusChange]] = relationship(
        order_by="StatusChange.changed_at", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def history(self) -> list[Any]:
        """Every step, oldest first: the opening one, then the stored ones."""
        return [opening_step(self), *self.steps]


@dataclass(frozen=True)
class Step:
    """A step of a request's lifecycle that is not a row: its opening."""

    from_status: str | None
    to_status: str
    reason: str | None
    changed_by: str | None
    key_id: uuid.UUID | None
    changed_at: datetime
    id: None = None


def opening_step(request: Any) -> Step:
    """How `request` (a CustomerRequest, or anything with its columns) opened: captured,
    by its `captured_by`, with its key, when the server created it."""
    return Step(None, "open", None, request.captured_by, request.key_id, request.created_at)


class StatusChange(db.Model):
    """A step of a request's lifecycle after its opening, kept for head office and the CRM."""

    __tablename__ = "request_status_changes"

    # Time-ordered (core.types.ordered_id): the log only grows, at its index's end.
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=ordered_id)
    request_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("requests.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    changed_by: Mapped[str | None] = mapped_column(sa.String(32))
    key_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
