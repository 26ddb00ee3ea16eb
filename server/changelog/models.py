from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.core.types import UTCDateTime, utcnow
from server.extensions import db

# Records of a customer rather than of a store: logged once for everyone (no store hint,
# what the CRM feed and webhooks read) and once for each store whose tablets hold the
# customer (changelog.service).
PER_CUSTOMER = frozenset({"customer", "consent"})
# Records of a store, logged for it. These and the customers' records for everyone are
# what the CRM feed carries (notices and the stores' copies of customers it does not).
PER_STORE = frozenset({"request", "note"})


class Change(db.Model):
    """One committed change to one record. `seq` is its position in commit order."""

    __tablename__ = "changes"
    __table_args__ = (
        sa.Index("ix_changes_record", "entity", "record_id", "seq"),
        sa.Index("ix_changes_store_seq", "store_id", "seq"),
        sa.Index("ix_changes_customer_seq", "customer_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    entity: Mapped[str] = mapped_column(sa.String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    op: Mapped[str] = mapped_column(sa.String(10))
    version: Mapped[int] = mapped_column(sa.Integer)
    # Scope hints, so a device's or the CRM's reads need no join to find their changes.
    store_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    reason: Mapped[str | None] = mapped_column(sa.String(20))
    # The record at this version, as a tablet sees it (see changelog.bodies); none for
    # a tombstone.
    body: Mapped[dict | None] = mapped_column(sa.JSON)
    # A request's status history at this version, as JSON text: the CRM feed sends it with
    # the request (devices do not get it). See customer_requests.history.
    history: Mapped[str | None] = mapped_column(sa.Text)
    committed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A later change of the same record in the same stream (same store hint, or none)
    # exists: set by that change's commit (changelog.service), so a page skips the
    # change by reading a column, not by probing the index for a later one per row.
    superseded: Mapped[bool] = mapped_column(sa.Boolean, default=False,
                                             server_default=sa.false())


class StoreCustomer(db.Model):
    """A customer whose record a store's tablets hold (captured there: a new customer,
    a request, a note). A customer's changes are logged once for every such store."""

    __tablename__ = "store_customers"

    store_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("stores.id"), primary_key=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("customers.id"),
                                                   primary_key=True, index=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Never loaded (lazy="raise"): it is here so that a flush writes a new customer
    # before the scope rows naming them. Without it the unit of work orders the two
    # tables by name, and every push group with a new customer failed its one flush
    # and was replayed a mutation at a time.
    customer: Mapped[object] = relationship("Customer", lazy="raise")


class ChangeCounter(db.Model):
    """A single row whose lock serialises the numbering of changes in commit order.

    A sequence taken at insert time is not enough: a transaction can take number
    10, another 11, and 11 commit first; a reader that has passed 11 never sees 10.
    Taking the number under this row's lock just before COMMIT means whoever holds
    number N has committed every number below it before N becomes visible.
    """

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(sa.BigInteger)


@sa.event.listens_for(ChangeCounter.__table__, "after_create")
def _seed_counter(target, connection, **kw):
    connection.execute(target.insert().values(id=1, value=0))


class ChangeRetention(db.Model):
    """How far tombstones have been pruned: a cursor below `pruned_through` may have
    missed a deletion, so its device must resync from a snapshot (410)."""

    __tablename__ = "change_retention"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    pruned_through: Mapped[int] = mapped_column(sa.BigInteger)
    pruned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@sa.event.listens_for(ChangeRetention.__table__, "after_create")
def _seed_retention(target, connection, **kw):
    connection.execute(target.insert().values(id=1, pruned_through=0))
