"""Who to call today, per store: due today, overdue (oldest first), and ready requests
whose customer has not been told yet — each with the channel the policy allows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.contact.models import FollowUp
from server.core.errors import NotFound
from server.core.types import utcnow
from server.customer_requests.lifecycle import OPEN
from server.customer_requests.models import CustomerRequest as R
from server.customers.models import Customer
from server.dashboard import roles, service
from server.dashboard.models import User
from server.stores.models import Store

LIMIT = 50


@dataclass
class Call:
    request: R
    customer_name: str
    best: str | None          # the channel to use, or None: no channel allowed now
    why_not: list[str]        # when none is allowed: the reasons, for the person calling


def store_for(session: Session, user: User, code: str | None) -> Store:
    """The store asked for (a manager always gets theirs); the first store otherwise."""
    if user.role == "store_manager":
        return session.get(Store, user.store_id)
    query = sa.select(Store).order_by(Store.code)
    store = session.scalar(query.where(Store.code == code) if code else query)
    if store is None:
        raise NotFound("No such store.")
    return store


def _local_today(store: Store, now: datetime) -> date:
    return now.astimezone(ZoneInfo(store.timezone)).date()


def _told() -> sa.Exists:
    return sa.exists().where(FollowUp.request_id == R.id, FollowUp.status == "sent")


def _sections(store: Store, today: date) -> dict[str, sa.Select]:
    mine = sa.select(R).where(R.store_id == store.id, R.status.in_(OPEN))
    return {
        "due_today": mine.where(R.due_date == today).order_by(R.created_at),
        "overdue": mine.where(R.due_date < today).order_by(R.due_date, R.created_at),
        "ready_untold": mine.where(R.status == "ready", ~_told()).order_by(R.updated_at),
    }


def _call(session: Session, user: User, record: R, customer: Customer) -> Call:
    options = service.request_options(session, user, customer, record)
    if options is None:
        return Call(record, "(erased)", None, ["The customer's data was erased."])
    why = [] if options["best"] else sorted({reason.message for decision in options["channels"]
                                             for reason in decision.reasons if reason.blocking})
    name = " ".join(p for p in (customer.given_name, customer.family_name) if p)
    return Call(record, name, options["best"], why)


def calls(session: Session, user: User, store: Store,
          now: datetime | None = None) -> dict[str, Any]:
    roles.require_store(user, store.id)
    today = _local_today(store, now or utcnow())
    found = {name: list(session.scalars(query.limit(LIMIT)))
             for name, query in _sections(store, today).items()}
    ids = {record.customer_id for records in found.values() for record in records}
    people = {c.id: c for c in session.scalars(sa.select(Customer).where(Customer.id.in_(ids)))}
    access_log.read(session, roles.actor_of(user), "read", "dashboard today", ids)
    sections = {name: [_call(session, user, r, people[r.customer_id]) for r in records]
                for name, records in found.items()}
    return {"store": store, "today": today, **sections}
