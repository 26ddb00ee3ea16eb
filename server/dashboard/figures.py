"""The charts page's figures: each analytics result drawn and tabled, for the stores a
user may see and the window asked for.

Counting a million requests takes seconds, and the figures move slowly: each worker
keeps what it drew for a few minutes (BLACKBOOK_CHARTS_CACHE_SECONDS, default 300;
0 turns it off), keyed by the stores and the window, and the page says when the
figures were counted. Only aggregates are kept, never a customer's data.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core.errors import Rejected
from server.core.types import utcnow
from server.dashboard import analytics, charts, roles
from server.dashboard.models import User
from server.stores.models import Store


@dataclass(frozen=True)
class Figure:
    key: str
    svg: str
    table: charts.Table


def _requests(session: Session, stores, since: date, until: date) -> list[Figure]:
    weekly = analytics.requests_per_week(session, stores, since, until)
    by_type = analytics.fulfilment_by_type(session, stores, since, until)
    by_store = analytics.fulfilment_by_store(session, stores, since, until)
    ageing = analytics.open_request_ageing(session, stores)
    return [
        Figure("per-week", charts.requests_per_week_chart(weekly, since, until),
               charts.requests_per_week_table(weekly)),
        Figure("fulfilment-type", charts.fulfilment_rate_chart(by_type, "Fulfilment rate "
                                                               "by type"),
               charts.fulfilment_table(by_type, "Type")),
        Figure("fulfilment-store", charts.time_to_fulfil_chart(by_store, "Days to fulfil "
                                                               "by store"),
               charts.fulfilment_table(by_store, "Store")),
        Figure("ageing", charts.ageing_chart(ageing), charts.ageing_table(ageing)),
    ]


def _demand(session: Session, stores, since: date, until: date) -> list[Figure]:
    found = analytics.unmet_demand_all(session, stores, since, until)
    return [Figure(f"unmet-{dimension}", charts.unmet_demand_chart(rows, dimension),
                   charts.unmet_demand_table(rows, dimension))
            for dimension, rows in found.items()]


def _contact(session: Session, stores, since: date, until: date) -> list[Figure]:
    consent = analytics.consent_activity(session, stores, since, until)
    statuses = analytics.follow_up_statuses(session, stores, since, until)
    reasons = analytics.suppression_reasons(session, stores, since, until)
    return [
        Figure("consent-purpose", charts.consent_chart(consent, "purpose", since, until),
               charts.consent_table(consent)),
        Figure("consent-channel", charts.consent_chart(consent, "channel", since, until),
               charts.consent_table(consent)),
        Figure("follow-ups", charts.follow_up_chart(statuses),
               charts.tally_table(statuses, "Follow-ups by status", "Status")),
        Figure("suppressed", charts.suppression_chart(reasons),
               charts.tally_table(reasons, "Suppressed follow-ups by reason", "Reason")),
    ]


def stores_for(session: Session, user: User, code: str | None) -> list[uuid.UUID] | None:
    """The stores to count: a manager's own always; otherwise the one asked for, or all."""
    visible = roles.stores_of(user)
    if visible is not None or not code:
        return visible
    store_id = session.scalar(sa.select(Store.id).where(Store.code == code))
    if store_id is None:
        raise Rejected(errors={"store": ["No store with this code."]})
    return [store_id]


@dataclass(frozen=True)
class Figures:
    since: date
    until: date
    counted_at: datetime
    figures: list[Figure]


_drawn: dict[tuple, tuple[float, Figures]] = {}
MAX_KEPT = 64


def _draw(session: Session, stores, weeks: int) -> Figures:
    now = utcnow()
    until = now.date()
    since = analytics.week_of(until) - timedelta(weeks=weeks - 1)
    figures = (_requests(session, stores, since, until) + _demand(session, stores, since, until)
               + _contact(session, stores, since, until))
    return Figures(since, until, now, figures)


def all_figures(session: Session, stores: list[uuid.UUID] | None, weeks: int,
                keep_seconds: float = 0) -> Figures:
    key = (tuple(sorted(stores)) if stores is not None else None, weeks, utcnow().date())
    kept = _drawn.get(key)
    if kept is not None and time.monotonic() < kept[0]:
        return kept[1]
    drawn = _draw(session, stores, weeks)
    if keep_seconds > 0:
        if len(_drawn) >= MAX_KEPT:
            _drawn.clear()
        _drawn[key] = (time.monotonic() + keep_seconds, drawn)
    return drawn


def forget() -> None:
    _drawn.clear()
