"""Unmet demand: what customers asked for that we did not have, by SKU, size, colour and
category — the "demand signal" head office buys and allocates from.

A request is unmet demand when the customer asked (created in the window) and either
  * it was cancelled because we could not get it: reason `not_available` or
    `discontinued` (any type; "the customer changed their mind" — `customer_cancelled` —
    and duplicates, mistakes or an unreachable customer are not demand we failed), or
  * it asked us to source a product (`back_in_stock`, `special_order`) and the product
    never came: expired `past_due`, or still open / in progress after its due date.
    A `ready` request is not: the product is there, waiting for the customer. Expired
    for `no_response` or `retention` is not either: the customer went quiet, or the data
    aged out, which says nothing about the product.

Every ask counts: asks are the weight (three requests for one SKU outweigh one), with
the distinct customers beside them, so one customer asking in three stores is visible
as 3 asks from 1 customer. Values are compared trimmed, SKUs upper-cased and the rest
lower-cased, as typed at a counter; empty values are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core.types import utcnow
from server.customer_requests.models import CustomerRequest as R
from server.dashboard import analytics_sql as q

DIMENSIONS = ("sku", "size", "colour", "category")
UNAVAILABLE = ("not_available", "discontinued")
SOURCED = ("back_in_stock", "special_order")
STILL_WAITING = ("open", "in_progress")


@dataclass(frozen=True)
class Demand:
    value: str  # the SKU, size, colour or category
    asks: int  # requests
    customers: int  # distinct customers behind them
    units: int  # quantity asked for, summed


def is_unmet(today: date) -> sa.ColumnElement:
    """The unmet-demand rule of this module's docstring, as a WHERE clause."""
    cancelled = sa.and_(R.status == "cancelled", R.status_reason.in_(UNAVAILABLE))
    never_came = sa.or_(sa.and_(R.status == "expired", R.status_reason == "past_due"),
                        sa.and_(R.status.in_(STILL_WAITING), R.due_date < today))
    return sa.or_(cancelled, sa.and_(R.type.in_(SOURCED), never_came))


def _normalised(dimension: str) -> sa.ColumnElement:
    if dimension not in DIMENSIONS:
        raise ValueError(f"unmet demand is counted by one of {DIMENSIONS}")
    value = sa.func.trim(getattr(R, dimension))
    return sa.func.upper(value) if dimension == "sku" else sa.func.lower(value)


def unmet_demand(session: Session, dimension: str, stores: q.Stores = None,
                 since: date | None = None, until: date | None = None, *, top: int = 10,
                 today: date | None = None) -> list[Demand]:
    """The `top` values of one dimension by asks (then customers, then value), among the
    requests made in the window; "past due" is judged at `today` (by default, today)."""
    since, until = q.window(since, until)
    start, end = q.bounds(since, until)
    inner = (sa.select(_normalised(dimension).label("value"), R.customer_id, R.quantity)
             .where(q.created_between(session, R.created_at, start, end, stores),
                    is_unmet(today or utcnow().date()), *q.in_stores(R.store_id, stores))
             .subquery())
    asks, customers = sa.func.count(), sa.func.count(sa.distinct(inner.c.customer_id))
    query = (sa.select(inner.c.value, asks, customers, sa.func.sum(inner.c.quantity))
             .where(inner.c.value.is_not(None), inner.c.value != "")
             .group_by(inner.c.value)
             .order_by(asks.desc(), customers.desc(), inner.c.value).limit(top))
    return [Demand(value, n, people, units or 0) for value, n, people, units
            in session.execute(query)]


def unmet_demand_all(session: Session, stores: q.Stores = None, since: date | None = None,
                     until: date | None = None, *, top: int = 10,
                     today: date | None = None) -> dict[str, list[Demand]]:
    """`unmet_demand` for every dimension: {"sku": […], "size": […], …}."""
    return {dimension: unmet_demand(session, dimension, stores, since, until, top=top,
                                    today=today) for dimension in DIMENSIONS}
