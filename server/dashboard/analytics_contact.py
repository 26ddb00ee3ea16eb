"""Head office's figures about consent and follow-ups, counted in the database.

Consent health is deliberately counts of events per purpose, channel and week — never per
associate, device or store target: a capture rate per person would push staff to press
customers for a "yes", which is exactly what consent must not be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.consent.models import ConsentEvent as E
from server.contact.models import FollowUp as F
from server.customer_requests.models import CustomerRequest as R
from server.dashboard import analytics_sql as q


@dataclass(frozen=True)
class ConsentWeek:
    week: date  # the Monday
    purpose: str  # as recorded: "marketing", "marketing.newsletter", …
    channel: str  # a channel, or "all"
    action: str  # grant | withdraw | deny | object
    events: int


def consent_activity(session: Session, stores: q.Stores = None, since: date | None = None,
                     until: date | None = None) -> list[ConsentWeek]:
    """Consent events per week (server receipt, the ledger's own order), purpose, channel
    and action. With `stores`, only events captured in those stores: a withdrawal made on
    the customer's own page, by a STOP reply or through the CRM belongs to no store, so it
    shows in head office's view (stores=None) only."""
    start, end = q.bounds(*q.window(since, until))
    inner = (sa.select(q.week_start(session, E.received_at).label("week"),
                       E.purpose, E.channel, E.action)
             .where(E.received_at >= start, E.received_at < end,
                    *q.in_stores(E.store_id, stores)).subquery())
    keys = (inner.c.week, inner.c.purpose, inner.c.channel, inner.c.action)
    rows = session.execute(sa.select(*keys, sa.func.count()).group_by(*keys).order_by(*keys))
    return [ConsentWeek(q.as_date(week), purpose, channel, action, count)
            for week, purpose, channel, action, count in rows]


@dataclass(frozen=True)
class Tally:
    key: str  # a follow-up status, or a suppression reason code
    tasks: int


def _follow_ups(stores: q.Stores, since: date | None, until: date | None) -> sa.Select:
    """Follow-ups decided in the window. With `stores`, those about a request of one of
    them; a head-office follow-up (about no request) shows with stores=None only."""
    start, end = q.bounds(*q.window(since, until))
    query = sa.select(F).where(F.created_at >= start, F.created_at < end)
    if stores is not None:
        query = query.join(R, R.id == F.request_id).where(*q.in_stores(R.store_id, stores))
    return query


def follow_up_statuses(session: Session, stores: q.Stores = None, since: date | None = None,
                       until: date | None = None) -> list[Tally]:
    """Follow-ups per status (sent, suppressed, pending, claimed, failed, cancelled),
    most first."""
    inner = _follow_ups(stores, since, until).subquery()
    count = sa.func.count()
    rows = session.execute(sa.select(inner.c.status, count).group_by(inner.c.status)
                           .order_by(count.desc(), inner.c.status))
    return [Tally(status, n) for status, n in rows]


def suppression_reasons(session: Session, stores: q.Stores = None, since: date | None = None,
                        until: date | None = None) -> list[Tally]:
    """Suppressed follow-ups per blocking reason code (`no_grant`, `withdrawn`, …), most
    first. A task is counted once per code, but a task held back by two different codes
    counts under each: the bars add up to more than the suppressed total."""
    tasks = _follow_ups(stores, since, until).where(F.status == "suppressed").subquery()
    code, blocking, elements = _reason_fields(session, tasks.c.reasons)
    inner = (sa.select(tasks.c.id, code.label("code")).select_from(tasks)
             .join(elements, sa.true()).where(blocking).subquery())
    count = sa.func.count(sa.distinct(inner.c.id))
    rows = session.execute(sa.select(inner.c.code, count).group_by(inner.c.code)
                           .order_by(count.desc(), inner.c.code))
    return [Tally(code, n) for code, n in rows]


def _reason_fields(session: Session, reasons: sa.ColumnElement):
    """(code, is blocking, the table of elements) of a follow-up's JSON list of reasons."""
    if session.get_bind().dialect.name == "postgresql":
        elements = (sa.func.json_array_elements(sa.cast(reasons, sa.JSON))
                    .table_valued("value").render_derived())
        field = elements.c.value.op("->>")
        return field(sa.literal_column("'code'")), \
            field(sa.literal_column("'blocking'")) == sa.literal_column("'true'"), elements
    elements = sa.func.json_each(reasons).table_valued("value")
    field = sa.func.json_extract
    return field(elements.c.value, sa.literal_column("'$.code'")), \
        field(elements.c.value, sa.literal_column("'$.blocking'")) == 1, elements
