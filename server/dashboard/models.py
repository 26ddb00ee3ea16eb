from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, new_id, utcnow
from server.extensions import db

ROLES = ("viewer", "store_manager", "privacy_officer", "admin")


class User(db.Model):
    """A person who signs in to the dashboard. Store managers are bound to one store."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES}", name="role"),
        sa.CheckConstraint("(role = 'store_manager') = (store_id IS NOT NULL)",
                           name="manager_store"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[str] = mapped_column(sa.String(20))
    store_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("stores.id"))
    password_hash: Mapped[str] = mapped_column(sa.String(200))  # argon2id, never the password
    # Bumped on logout and password change: every cookie signed before it stops working.
    session_epoch: Mapped[int] = mapped_column(sa.Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RequestSearch(db.Model):
    """The text each request is found by (dashboard.search.text_of), with its trigram
    index (PostgreSQL): kept beside the requests, off the capture path, by
    dashboard.search_index."""

    __tablename__ = "request_search"

    # No foreign key: checking it locks each request a pass reads, on the pages the
    # captures are being written to. Requests are never deleted (erasure and retention
    # clear their text), and a search reads requests, so a row here finds nothing alone.
    request_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)


class SearchPosition(db.Model):
    """How far in the change log request_search is up to date (one row)."""

    __tablename__ = "search_position"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    indexed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
