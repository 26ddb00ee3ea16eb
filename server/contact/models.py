from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.core.types import UTCDateTime, new_id, utcnow
from server.extensions import db


class Suppression(db.Model):
    """A contact point never to be used again (a hard bounce, an erased customer's
    address): kept as a SHA-256 digest of the normalised address (see
    contact.suppression), so the list itself shows no address."""

    __tablename__ = "suppressions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(8))  # email | phone
    reason: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Contact(db.Model):
    """A contact made: what the frequency cap counts and what the dedupe key checks."""

    __tablename__ = "contacts"
    __table_args__ = (sa.Index("ix_contacts_customer_sent", "customer_id", "sent_at"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"))
    channel: Mapped[str] = mapped_column(sa.String(8))
    purpose: Mapped[str] = mapped_column(sa.String(64))
    topic: Mapped[str | None] = mapped_column(sa.String(120))
    follow_up_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("follow_ups.id"))
    request_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("requests.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FollowUp(db.Model):
    """A contact a channel system may make, decided by the policy, with its reasons.

    pending → claimed (leased to one worker) → sent | failed (back to pending until
    the attempts run out) ; suppressed when the policy says no, cancelled by head office.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        sa.Index("ix_follow_ups_claimable", "channel", "status", "not_before"),
        sa.Index("ix_follow_ups_request", "request_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    request_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("requests.id"))
    purpose: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str | None] = mapped_column(sa.String(8))  # none: no channel allowed
    topic: Mapped[str] = mapped_column(sa.String(120))
    trigger: Mapped[str] = mapped_column(sa.String(32))  # request_ready | head_office
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")
    reasons: Mapped[list] = mapped_column(sa.JSON, default=list)
    obligations: Mapped[list] = mapped_column(sa.JSON, default=list)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)  # the channel key
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(sa.String(12))
    # The last report, so a retried report gets the same answer and changes nothing.
    reported_claim_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    reported_outcome: Mapped[str | None] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    __mapper_args__ = {"version_id_col": version}
