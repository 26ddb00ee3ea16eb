"""The access log's table."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, ordered_id, utcnow
from server.extensions import db

# uuid[] on PostgreSQL; elsewhere a JSON list of the ids' text (None: SQL NULL, not JSON null).
CUSTOMER_IDS = postgresql.ARRAY(sa.Uuid).with_variant(sa.JSON(none_as_null=True), "sqlite")
CUSTOMER_IDS_INDEX = "ix_access_log_customer_ids"
CREATE_CUSTOMER_IDS_INDEX = (f"CREATE INDEX IF NOT EXISTS {CUSTOMER_IDS_INDEX} "
                             "ON access_log USING gin (customer_ids)")


class AccessEntry(db.Model):
    """Who read, searched, exported or changed a customer's data, when, from where.

    Never the data itself: the customer's id, what kind of thing was touched, and the
    key that did it (with its store and device, for tablets). One entry names one
    customer (`customer_id`) or, for a read of several at once (a page of the CRM feed
    or of a pull, a search), all of them (`customer_ids`, never a list of one): a page
    of 500 customers is one entry, not 500. `naming` finds a customer's entries either
    way; on PostgreSQL a GIN index serves it (core.pg_indexes, migration 0017).
    """

    __tablename__ = "access_log"
    __table_args__ = (
        sa.Index("ix_access_log_customer_at", "customer_id", "at"),
        sa.CheckConstraint("(customer_id IS NULL) <> (customer_ids IS NULL)",
                           name="one_or_several_customers"),
    )

    # Time-ordered (UUID version 7): the log only grows, at the end of its key's index.
    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=ordered_id)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    customer_ids: Mapped[list | None] = mapped_column(CUSTOMER_IDS)
    action: Mapped[str] = mapped_column(sa.String(10))  # read search export change erase
    what: Mapped[str] = mapped_column(sa.String(40))    # e.g. customer, sync pull, feed
    scope: Mapped[str] = mapped_column(sa.String(16))
    key_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    store_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def customers(self) -> list[uuid.UUID]:
        """The customers this entry names."""
        if self.customer_id is not None:
            return [self.customer_id]
        return [c if isinstance(c, uuid.UUID) else uuid.UUID(c) for c in self.customer_ids]
