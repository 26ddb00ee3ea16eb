from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, new_id, utcnow
from server.extensions import db


class Note(db.Model):
    __tablename__ = "notes"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    request_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("requests.id"),
                                                         index=True)
    store_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    body: Mapped[str] = mapped_column(sa.Text)
    sensitive: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    sensitive_categories: Mapped[list] = mapped_column(sa.JSON, default=list)
    captured_by: Mapped[str | None] = mapped_column(sa.String(32))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    # The version at which each field last changed: sync's per-field conflict check.
    field_versions: Mapped[dict] = mapped_column(sa.JSON, default=dict)

    __mapper_args__ = {"version_id_col": version}
