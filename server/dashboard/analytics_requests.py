"""Head office's figures about requests, counted in the database (GROUP BY), never row by
row in Python: requests per week, fulfilment, ageing of open requests, unmet demand.

Times are the server's (`created_at`, `closed_at`), never the tablet's `captured_at`:
a device clock can be wrong, and the server's is set on every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core.types import utcnow
from server.customer_requests.lifecycle import CLOSED, OPEN, TYPES
from server.customer_requests.models import CustomerRequest as R
from server.dashboard import analytics_sql as q
from server.stores.models import Store


@dataclass(frozen=True)
class StoreWeek:
    week: date  # the Monday
    store_code: str
    store_name: str
    requests: int


def requests_per_week(session: Session, stores: q.Stores = None, since: date | None = None,
                      until: date | None = None) -> list[StoreWeek]:
    """Requests captured (server receipt) per store and week, by week then store code.
    Weeks with none are absent: `analytics_sql.weeks` lists them all."""
    start, end = q.bounds(*q.window(since, until))
    inner = (sa.select(q.week_start(session, R.created_at).label("week"), R.store_id)
             .where(q.created_between(session, R.created_at, start, end, stores),
                    *q.in_stores(R.store_id, stores)).subquery())
    query = (sa.select(inner.c.week, Store.code, Store.name, sa.func.count())
             .join(Store, Store.id == inner.c.store_id)
             .group_by(inner.c.week, Store.code, Store.name)
             .order_by(inner.c.week, Store.code))
    return [StoreWeek(q.as_date(week), code, name, count)
            for week, code, name, count in session.execute(query)]


# -- fulfilment --------------------------------------------------------------------------

# Closed as a duplicate or a mistake: never a real ask, so neither a success nor a failure.
NOT_AN_ASK = ("duplicate", "captured_in_error")


@dataclass(frozen=True)
class Fulfilment:
    key: str  # the type, or the store code
    label: str
    closed: int
    fulfilled: int
    rate: float | None  # fulfilled / closed
    median_days: float | None  # whole days from capture to fulfilment
    mean_days: float | None


def fulfilment_by_type(session: Session, stores: q.Stores = None, since: date | None = None,
                       until: date | None = None) -> list[Fulfilment]:
    """Of the requests closed in the window, the share fulfilled and how long it took,
    per request type (in the lifecycle's order). See `_closed_in_window` for what counts."""
    rows = [replace(row, label=row.key.replace("_", " "))
            for row in _fulfilment(session, (R.type, R.type), stores, since, until)]
    return sorted(rows, key=lambda row: TYPES.index(row.key) if row.key in TYPES else 99)


def fulfilment_by_store(session: Session, stores: q.Stores = None, since: date | None = None,
                        until: date | None = None) -> list[Fulfilment]:
    """As `fulfilment_by_type`, per store (by store code)."""
    return sorted(_fulfilment(session, (Store.code, Store.name), stores, since, until),
                  key=lambda row: row.key)


def _closed_in_window(stores: q.Stores, since: date | None,
                      until: date | None) -> list[sa.ColumnElement]:
    """Closed (fulfilled, cancelled, expired) in the window, duplicates and mistakes aside:
    the rate is about what customers really asked for, whenever they asked."""
    start, end = q.bounds(*q.window(since, until))
    return [R.status.in_(CLOSED), R.closed_at >= start, R.closed_at < end,
            R.status_reason.not_in(NOT_AN_ASK), *q.in_stores(R.store_id, stores)]


def _fulfilment(session, keys, stores, since, until) -> list[Fulfilment]:
    where = _closed_in_window(stores, since, until)
    counts = session.execute(
        sa.select(*keys, sa.func.count(), sa.func.count().filter(R.status == "fulfilled"))
        .join(Store, Store.id == R.store_id).where(*where).group_by(*keys))
    times = _time_to_fulfil(session, keys, where)
    return [_fulfilment_row(key, label, closed, fulfilled, times.get(key))
            for key, label, closed, fulfilled in counts]


def _time_to_fulfil(session, keys, where) -> dict[str, tuple[list, float]]:
    """Per key: a histogram of whole days to fulfil (bounded rows), and the mean days."""
    inner = (sa.select(keys[0].label("key"),
                       q.whole_days(session, R.created_at, R.closed_at).label("days"),
                       q.elapsed_days(session, R.created_at, R.closed_at).label("exact"))
             .join(Store, Store.id == R.store_id)
             .where(*where, R.status == "fulfilled").subquery())
    rows = session.execute(sa.select(inner.c.key, inner.c.days, sa.func.count(),
                                     sa.func.sum(inner.c.exact))
                           .group_by(inner.c.key, inner.c.days))
    found: dict[str, tuple[list, float]] = {}
    for key, days, count, exact in rows:
        histogram, total = found.get(key, ([], 0.0))
        found[key] = (histogram + [(days, count)], total + float(exact))
    return found


def _fulfilment_row(key, label, closed, fulfilled, times) -> Fulfilment:
    histogram, total = times or ([], 0.0)
    return Fulfilment(key, label, closed, fulfilled,
                      fulfilled / closed if closed else None, q.median(histogram),
                      round(total / fulfilled, 2) if fulfilled else None)


# -- ageing ------------------------------------------------------------------------------

AGE_BUCKETS = ("0–7", "8–14", "15–30", "31–60", ">60")  # whole days since capture
_LAST_DAY = (7, 14, 30, 60)


@dataclass(frozen=True)
class Ageing:
    store_code: str
    store_name: str
    counts: dict[str, int] = field(default_factory=dict)  # every bucket, in order

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def open_request_ageing(session: Session, stores: q.Stores = None,
                        as_of: datetime | None = None) -> list[Ageing]:
    """Requests still open, in progress or ready, by store and by age in whole days
    (AGE_BUCKETS) at `as_of` (now). A snapshot: it takes no window."""
    now = as_of or utcnow()
    # Age ≤ n whole days ⇔ captured after now − (n + 1) days: plain comparisons on an
    # indexed column, the same on both databases.
    # Captured after `as_of` (a past as_of): no bucket, left out below — not a WHERE on
    # created_at, which SQLite would answer through the index, row by row.
    bucket = sa.case((R.created_at > now, None),
                     *((R.created_at > now - timedelta(days=last + 1), index)
                       for index, last in enumerate(_LAST_DAY)), else_=len(_LAST_DAY))
    inner = (sa.select(R.store_id, bucket.label("bucket"))
             .where(R.status.in_(OPEN), *q.in_stores(R.store_id, stores)).subquery())
    rows = session.execute(
        sa.select(Store.code, Store.name, inner.c.bucket, sa.func.count())
        .join(Store, Store.id == inner.c.store_id).where(inner.c.bucket.is_not(None))
        .group_by(Store.code, Store.name, inner.c.bucket).order_by(Store.code))
    found: dict[tuple[str, str], dict[str, int]] = {}
    for code, name, index, count in rows:
        found.setdefault((code, name), dict.fromkeys(AGE_BUCKETS, 0))[AGE_BUCKETS[index]] = count
    return [Ageing(code, name, counts) for (code, name), counts in found.items()]
