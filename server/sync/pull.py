"""Pulling changes after a cursor, in commit order, within a store's scope.

The change log is numbered in commit order (see changelog.models.ChangeCounter),
so "every change with seq > cursor" is complete whenever it is read: a reader
that keeps pulling never misses a committed change. Each record comes at its
latest change only, so a device catching up after weeks gets each record once,
and each change carries the record as it was serialised at commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from server.changelog.models import Change, ChangeCounter
from server.core.actor import Actor
from server.sync.cursors import Cursor, decode
from server.sync.models import StoreCustomer


@dataclass
class Page:
    changes: list[dict[str, Any]]
    next_cursor: str
    has_more: bool


def _in_store_scope(store_id) -> sa.ColumnElement:
    store_customers = sa.select(StoreCustomer.customer_id).where(
        StoreCustomer.store_id == store_id)
    return sa.or_(Change.store_id == store_id,
                  sa.and_(Change.entity == "customer", Change.customer_id.in_(store_customers)))


def _latest_only() -> sa.ColumnElement:
    later = aliased(Change)
    return ~sa.exists().where(later.entity == Change.entity,
                              later.record_id == Change.record_id, later.seq > Change.seq)


def _head(session: Session) -> int:
    """The newest committed position: every change at or below it is visible now."""
    return session.scalar(sa.select(ChangeCounter.value).where(ChangeCounter.id == 1))


def pull(session: Session, actor: Actor, token: str | None, limit: int) -> Page:
    """The next page of changes in the device's scope after `token` (none: a snapshot)."""
    head = _head(session)  # read before the changes: all of it is then visible below
    cursor = decode(token) if token else Cursor(after=0, snapshot_end=head)
    query = (sa.select(Change.seq, Change.entity, Change.record_id, Change.op, Change.version,
                       Change.reason, Change.body)
             .where(Change.seq > cursor.after, _in_store_scope(actor.store_id), _latest_only())
             .order_by(Change.seq).limit(limit + 1))
    if cursor.after < cursor.snapshot_end:
        # A fresh device has nothing to delete: skip the snapshot's tombstones.
        query = query.where(sa.or_(Change.op != "delete", Change.seq > cursor.snapshot_end))
    rows = session.execute(query).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    after = rows[-1].seq if has_more else max(head, rows[-1].seq if rows else 0, cursor.after)
    changes = [_change(row) for row in rows]
    return Page(changes, Cursor(after, cursor.snapshot_end).encode(), has_more)


def _change(row) -> dict[str, Any]:
    change = {"entity": row.entity, "id": str(row.record_id), "op": row.op,
              "version": row.version}
    if row.op == "delete":
        change["reason"] = row.reason
    else:
        change["record"] = row.body
    return change
