from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, new_id, utcnow
from server.extensions import db


class Customer(db.Model):
    """A customer with their contact points (stored normalised) and preferences."""

    __tablename__ = "customers"
    __table_args__ = (
        sa.Index("ix_customers_name_key", "name_key",
                 postgresql_ops={"name_key": "text_pattern_ops"}),
        sa.Index("ix_customers_family_key", "family_key",
                 postgresql_ops={"family_key": "text_pattern_ops"}),
        sa.Index("ix_customers_phone_reversed", "phone_reversed",
                 postgresql_ops={"phone_reversed": "text_pattern_ops"}),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str | None] = mapped_column(sa.String(100))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)  # E.164
    postal_address: Mapped[dict | None] = mapped_column(sa.JSON)
    preferences: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    home_store_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("stores.id"),
                                                            index=True)
    captured_by: Mapped[str | None] = mapped_column(sa.String(32))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Erased (privacy request): personal fields cleared, never contacted again.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Processing restricted (e.g. while a complaint is handled): kept, never contacted.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Merged into another record of the same person (customers.merge): an empty shell
    # that points at the record standing for them.
    merged_into_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("customers.id"))
    merged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    # The version at which each field last changed: sync's per-field conflict check.
    field_versions: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    # Derived search keys (see customers.normalise), kept in step by the service.
    name_key: Mapped[str] = mapped_column(sa.String(201))
    family_key: Mapped[str | None] = mapped_column(sa.String(100))
    phone_reversed: Mapped[str | None] = mapped_column(sa.String(20))

    __mapper_args__ = {"version_id_col": version}
