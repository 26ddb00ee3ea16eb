from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, utcnow
from server.extensions import db


class AppliedMutation(db.Model):
    """The stored result of an applied mutation, written in the same savepoint as its
    effect: a crash can never keep one without the other, and a replay gets it back."""

    __tablename__ = "applied_mutations"

    mutation_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    device_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    result: Mapped[dict] = mapped_column(sa.JSON)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

