"""Reading one customer's access log (the log itself is written by server.audit)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit.access_log import naming
from server.audit.models import AccessEntry
from server.core import paging
from server.core.actor import Actor
from server.customers import service as customers


def for_customer(session: Session, actor: Actor, customer_id: uuid.UUID, limit: int,
                 after: str | None) -> tuple[list, str | None]:
    """Newest first. Each entry as it concerns this customer: never the other customers
    a read of several named."""
    customers.get(session, actor, customer_id)
    entry = AccessEntry.__table__.c
    query = sa.select(entry.id, sa.literal(customer_id, sa.Uuid).label("customer_id"),
                      entry.action, entry.what, entry.scope, entry.key_id, entry.store_id,
                      entry.device_id, entry.at).where(naming(session, customer_id))
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    if last is not None:
        query = query.where(sa.tuple_(entry.at, entry.id) < tuple(last))
    rows = session.execute(query.order_by(entry.at.desc(), entry.id.desc())
                           .limit(limit + 1)).all()
    return paging.page(rows, limit, lambda e: [e.at.isoformat(), str(e.id)])
