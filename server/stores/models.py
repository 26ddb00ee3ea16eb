from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.core.types import UTCDateTime, new_id, utcnow
from server.extensions import db

SCOPES = ("tablet", "crm", "channel", "admin")


class Store(db.Model):
    __tablename__ = "stores"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    country: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2: default phone region
    timezone: Mapped[str] = mapped_column(sa.String(64))
    region: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class Device(db.Model):
    """A tablet, bound to one store."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    store_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    store: Mapped[Store] = relationship()
    __mapper_args__ = {"version_id_col": version}


class Associate(db.Model):
    """A person capturing at the counter, known to the API by a short code."""

    __tablename__ = "associates"
    __table_args__ = (sa.UniqueConstraint("store_id", "code", name="uq_associates_store_code"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    store_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    display_name: Mapped[str] = mapped_column(sa.String(120))
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ApiKey(db.Model):
    """A bearer key. Only a SHA-256 digest of the secret is kept (see stores.keys)."""

    __tablename__ = "api_keys"
    __table_args__ = (
        sa.CheckConstraint("scope IN ('tablet', 'crm', 'channel', 'admin')", name="scope"),
        sa.CheckConstraint(
            "scope <> 'tablet' OR (store_id IS NOT NULL AND device_id IS NOT NULL)",
            name="tablet_bound"),
        sa.CheckConstraint(
            "scope <> 'channel' OR channel IS NOT NULL OR revoked_at IS NOT NULL",
            name="channel_bound"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scope: Mapped[str] = mapped_column(sa.String(16))
    label: Mapped[str] = mapped_column(sa.String(120))
    store_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("stores.id"), index=True)
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id"), index=True)
    # A channel system's key works the follow-ups of one channel (email, sms, …) only.
    channel: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
