"""What the dashboard's analytics share: the time window, the store scope, and the few SQL
expressions that SQLite and PostgreSQL spell differently (week start, elapsed days).

Weeks start on Monday and are cut in UTC: the server's clock, the same for every store
(a store's local midnight moves a request across a week boundary by an hour at most).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core.types import utcnow

WEEKS_BY_DEFAULT = 12
# Longer waits share one histogram row: bounds the rows a median is computed from.
MAX_DAYS = 366

Stores = list[uuid.UUID] | None  # None: every store; a store manager passes their one


def week_of(day: date) -> date:
    """The Monday that starts `day`'s week."""
    return day - timedelta(days=day.weekday())


def window(since: date | None, until: date | None) -> tuple[date, date]:
    """The days asked for, both included; by default the last 12 weeks up to today."""
    until = until or utcnow().date()
    since = since or week_of(until) - timedelta(weeks=WEEKS_BY_DEFAULT - 1)
    return since, until


def bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """[start of `since`, start of the day after `until`) in UTC: whole days, no gaps."""
    start = datetime.combine(since, time(), UTC)
    return start, datetime.combine(until + timedelta(days=1), time(), UTC)


def weeks(since: date, until: date) -> list[date]:
    """Every week start from `since`'s week to `until`'s, for charts to show empty weeks."""
    first, last = week_of(since), week_of(until)
    return [first + timedelta(weeks=n) for n in range((last - first).days // 7 + 1)]


def in_stores(column: sa.ColumnElement, stores: Stores) -> list[sa.ColumnElement]:
    """The store filter; an empty list (a manager with no store) matches nothing."""
    return [] if stores is None else [column.in_(list(stores))]


def created_between(session: Session, column: sa.ColumnElement, start: datetime,
                    end: datetime, stores: Stores) -> sa.ColumnElement:
    """`start <= column < end`, read straight through the table for every store on SQLite.

    Without statistics SQLite walks the created_at index for any window, one row lookup
    per request, several times slower than a plain scan over a long window. A column
    inside a function is no index term (SQLite sees through likely()). A store list is
    left to the store index; PostgreSQL plans well by itself."""
    if stores is None and not _postgres(session):
        column = sa.func.coalesce(column, column)
    return sa.and_(column >= start, column < end)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _word(text: str) -> sa.ColumnElement:
    # Constants as SQL literals, not bound parameters: PostgreSQL would otherwise see
    # the SELECT's date_trunc($1, …) and the GROUP BY's date_trunc($2, …) as different.
    return sa.literal_column(f"'{text}'")


def week_start(session: Session, column: sa.ColumnElement) -> sa.ColumnElement:
    """The Monday (UTC) of a timestamp column's week; read it back with `as_date`."""
    if _postgres(session):
        utc = sa.func.timezone(_word("UTC"), column)
        return sa.cast(sa.func.date_trunc(_word("week"), utc), sa.Date)
    # SQLite stores naive UTC text: 'weekday 0' moves to the Sunday, then back to Monday.
    return sa.func.date(column, _word("weekday 0"), _word("-6 days"))


def elapsed_days(session: Session, start: sa.ColumnElement,
                 end: sa.ColumnElement) -> sa.ColumnElement:
    """Days (fractional) from one timestamp column to another."""
    if _postgres(session):
        return sa.extract("epoch", end - start) / 86400.0
    return sa.func.julianday(end) - sa.func.julianday(start)


def whole_days(session: Session, start: sa.ColumnElement,
               end: sa.ColumnElement) -> sa.ColumnElement:
    """Completed days between two timestamps, capped at MAX_DAYS."""
    # A hair over: exactly 8 days must not come back from floating point as 7.99999.
    days = elapsed_days(session, start, end) + 1e-6
    # PostgreSQL's cast rounds, SQLite's truncates: floor first where it is needed.
    whole = sa.cast(sa.func.floor(days) if _postgres(session) else days, sa.Integer)
    return sa.case((whole > MAX_DAYS, MAX_DAYS), else_=whole)


def as_date(value: date | datetime | str) -> date:
    """A week start as the database handed it back (SQLite: text; PostgreSQL: a date)."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def median(histogram: Iterable[tuple[int, int]]) -> float | None:
    """The median of values given as (value, how many) pairs; None when there are none."""
    pairs = sorted((value, count) for value, count in histogram if count)
    total = sum(count for _, count in pairs)
    if not total:
        return None
    wanted, seen, found = {(total - 1) // 2, total // 2}, 0, []
    for value, count in pairs:
        found += [value] * len({i for i in wanted if seen <= i < seen + count})
        seen += count
    return sum(found) / len(found)
