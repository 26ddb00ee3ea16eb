"""Privacy requests: a customer asks to see or erase their data; the answer is due
within one calendar month, and head office sees what is open and overdue."""

from __future__ import annotations

import calendar
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.changelog import service as changelog
from server.core import paging
from server.core.actor import Actor
from server.core.errors import Conflict, NotFound, Rejected
from server.core.types import utcnow
from server.customers.models import Customer
from server.privacy import erasure
from server.privacy.models import PrivacyRequest


def one_month_after(moment: datetime) -> datetime:
    """The same day next month, or that month's last day (31 January → 28/29 February)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def receive(session: Session, actor: Actor, customer_id: uuid.UUID, kind: str) -> PrivacyRequest:
    """Record a request (an open one of the same kind is returned as it is). An erasure
    request is announced at once, so the CRM and webhook receivers can still match the
    customer before their data goes."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise Rejected(errors={"customer_id": ["No such customer."]})
    existing = session.scalar(sa.select(PrivacyRequest).where(
        PrivacyRequest.customer_id == customer_id, PrivacyRequest.kind == kind,
        PrivacyRequest.status == "open"))
    if existing is not None:
        return existing
    now = utcnow()
    request = PrivacyRequest(customer_id=customer_id, kind=kind, status="open",
                             received_at=now, due_at=one_month_after(now))
    session.add(request)
    if kind == "erasure" and customer.erased_at is None:
        changelog.record(session, "customer", customer, reason="erasure_requested")
    session.flush()
    return request


def complete(session: Session, actor: Actor, request_id: uuid.UUID) -> PrivacyRequest:
    """Close a request: an erasure is carried out now; an access request is answered by
    the export the privacy officer sent."""
    request = session.get(PrivacyRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound("No such privacy request.")
    if request.status == "completed":
        raise Conflict("This request was completed already.")
    if request.kind == "erasure":
        erasure.erase(session, actor, request.customer_id)
    request.status, request.completed_at = "completed", utcnow()
    session.flush()
    return request


def find(session: Session, args: dict[str, Any], limit: int,
         after: str | None) -> tuple[list[PrivacyRequest], str | None]:
    """Oldest due first: what must be answered next."""
    query = sa.select(PrivacyRequest)
    if args.get("status"):
        query = query.where(PrivacyRequest.status == args["status"])
    if args.get("overdue"):
        query = query.where(PrivacyRequest.status == "open", PrivacyRequest.due_at < utcnow())
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(PrivacyRequest.due_at, PrivacyRequest.id) > tuple(last))
    rows = list(session.scalars(query.order_by(PrivacyRequest.due_at, PrivacyRequest.id)
                                .limit(limit + 1)))
    return paging.page(rows, limit, lambda r: [r.due_at.isoformat(), str(r.id)])


def move_to_survivor(duplicate: Customer, *, into: Customer, session: Session,
                     **_: Any) -> None:
    """On `customer_merged`: the person's privacy requests stand, whichever record they
    were asked for."""
    session.execute(sa.update(PrivacyRequest).where(PrivacyRequest.customer_id == duplicate.id)
                    .values(customer_id=into.id)
                    .execution_options(synchronize_session=False))
