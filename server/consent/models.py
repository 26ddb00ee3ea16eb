from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, new_id, utcnow
from server.extensions import db


class Notice(db.Model):
    """One published version of a plain-language notice: what is asked, what the customer
    gets in return, and which purposes and channels a "yes" to it covers. Immutable."""

    __tablename__ = "notices"
    __table_args__ = (sa.UniqueConstraint("key", "language", "number",
                                          name="uq_notices_key_language_number"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(sa.String(64))
    language: Mapped[str] = mapped_column(sa.String(12))
    number: Mapped[int] = mapped_column(sa.Integer)  # the notice's version: 1, 2, …
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    value_exchange: Mapped[str] = mapped_column(sa.Text)
    purposes: Mapped[list] = mapped_column(sa.JSON)
    channels: Mapped[list] = mapped_column(sa.JSON)
    requires_reconsent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)  # the record's: never grows


class ConsentEvent(db.Model):
    """"Customer X granted/withdrew purpose P on channel C": append-only, never changed.

    `ordinal` is the server's order of receipt for this customer (taken under the
    customer's row lock), the only order the ledger trusts;
    the device's `captured_at` is kept as information (see consent.ledger for the one
    place it is used: a grant never undoes a refusal the server held before it was made).
    """

    __tablename__ = "consent_events"
    __table_args__ = (sa.UniqueConstraint("customer_id", "ordinal",
                                          name="uq_consent_events_customer_ordinal"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"))
    ordinal: Mapped[int] = mapped_column(sa.Integer)
    purpose: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(8))  # a channel, or "all"
    action: Mapped[str] = mapped_column(sa.String(10))
    notice_version_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("notices.id"))
    method: Mapped[str] = mapped_column(sa.String(32))
    store_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("stores.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("devices.id"))
    captured_by: Mapped[str | None] = mapped_column(sa.String(32))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)  # the record's: never grows


class ConsentState(db.Model):
    """The event that currently speaks for one (purpose, channel) of a customer.

    Derived from the events and kept in step on every append; `ledger.fold` over a
    customer's events rebuilds it exactly (a property test checks).
    """

    __tablename__ = "consent_state"

    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"),
                                                   primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("consent_events.id"))


class ImmutableRecord(Exception):
    """Raised when code tries to change or delete a consent event or a published notice."""


@event.listens_for(ConsentEvent, "before_update")
@event.listens_for(ConsentEvent, "before_delete")
@event.listens_for(Notice, "before_update")
@event.listens_for(Notice, "before_delete")
def _refuse_change(mapper, connection, target) -> None:
    raise ImmutableRecord(f"A {type(target).__name__} is never changed or deleted.")
