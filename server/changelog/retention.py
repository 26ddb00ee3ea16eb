"""Keeping the change log small without breaking any reader's cursor.

A change superseded by a later change of the same record in the same stream is
never served again (pulls send each record at its latest change), so it can go
at any time. A tombstone is the only news of a deletion: once one is dropped, a
device whose cursor is older may have missed it and must resync (410).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.changelog.models import Change, ChangeRetention
from server.core.types import utcnow


@dataclass
class Pruned:
    superseded: int
    tombstones: int
    pruned_through: int


def pruned_through(session: Session) -> int:
    return session.scalar(sa.select(ChangeRetention.pruned_through)) or 0


def prune(session: Session, tombstone_age: timedelta, now: datetime | None = None) -> Pruned:
    """Drop superseded changes, and tombstones older than `tombstone_age`."""
    dropped = session.execute(sa.delete(Change).where(Change.superseded.is_(True))
                              .execution_options(synchronize_session=False)).rowcount
    old = sa.and_(Change.op == "delete", Change.committed_at < (now or utcnow()) - tombstone_age)
    newest_old = session.scalar(sa.select(sa.func.max(Change.seq)).where(old))
    tombstones = 0
    if newest_old is not None:
        tombstones = session.execute(sa.delete(Change).where(old)
                                     .execution_options(synchronize_session=False)).rowcount
        retention = session.get(ChangeRetention, 1)
        retention.pruned_through = max(retention.pruned_through, newest_old)
        retention.pruned_at = utcnow()
    return Pruned(dropped, tombstones, pruned_through(session))
