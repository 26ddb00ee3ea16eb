"""Requests across stores: the filtered, sorted, keyset-paged list and its CSV stream.

Rows are plain tuples from one SELECT (no ORM objects): a page is 50 rows out of
millions, and the export streams every match in batches without holding them all.
The list names no customer: what was asked for, where, when, by whom at the counter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.core import paging
from server.core.types import utcnow
from server.customer_requests.lifecycle import OPEN
from server.customer_requests.models import CustomerRequest as R
from server.dashboard import search
from server.stores.models import Store

COLUMNS = (R.id, Store.code.label("store"), R.type, R.status, R.status_reason, R.sku,
           R.description, R.size, R.colour, R.category, R.quantity, R.due_date,
           R.captured_by, R.created_at, R.updated_at)
PAGE = 50


def _due_on(due: str, today: date) -> list[sa.ColumnElement]:
    if due == "today":
        return [R.due_date == today, R.status.in_(OPEN)]
    if due == "overdue":
        return [R.due_date < today, R.status.in_(OPEN)]
    return [R.due_date.between(today, today + timedelta(days=6)), R.status.in_(OPEN)]


def _due(due: str | None, todays: dict[str, date]) -> list[sa.ColumnElement]:
    """Due dates are judged by each store's own calendar (as on the today page): one
    clause per time zone the stores are in — a handful, whatever the number of stores."""
    if due is None:
        return []
    if due == "none":
        return [R.due_date.is_(None)]
    if len(todays) <= 1:  # one calendar for every store (or no store at all)
        return _due_on(due, next(iter(todays.values()), date.today()))
    return [sa.or_(*(sa.and_(R.store_id.in_(sa.select(Store.id).where(Store.timezone == zone)),
                             *_due_on(due, today)) for zone, today in todays.items()))]


def local_todays(session: Session, now: datetime) -> dict[str, date]:
    zones = session.scalars(sa.select(Store.timezone).distinct())
    return {zone: now.astimezone(ZoneInfo(zone)).date() for zone in zones}


def _age(args: dict[str, Any], now: datetime) -> list[sa.ColumnElement]:
    clauses = []
    if args.get("min_age") is not None:
        clauses.append(R.created_at <= now - timedelta(days=args["min_age"]))
    if args.get("max_age") is not None:
        clauses.append(R.created_at > now - timedelta(days=args["max_age"] + 1))
    return clauses


def _stores(stores: list[uuid.UUID] | None, args: dict[str, Any]) -> list[sa.ColumnElement]:
    clauses = [] if stores is None else [R.store_id.in_(stores)]
    # Store ids looked up first (an InitPlan), so the requests' own indexes serve the rest.
    if args.get("store"):
        clauses.append(R.store_id == sa.select(Store.id).where(Store.code == args["store"])
                       .scalar_subquery())
    if args.get("region"):
        clauses.append(R.store_id.in_(sa.select(Store.id).where(
            Store.region == args["region"])))
    return clauses


def filters(stores: list[uuid.UUID] | None, args: dict[str, Any], now: datetime,
            todays: dict[str, date]) -> list[sa.ColumnElement]:
    """`stores` is what the user may see (None: every store); `args` the list filters
    but the text (dashboard.search); `todays` each time zone's date now."""
    clauses = _stores(stores, args) + _due(args.get("due"), todays) + _age(args, now)
    if args.get("type"):
        clauses.append(R.type.in_(args["type"]))
    if args.get("status"):
        clauses.append(R.status.in_(args["status"]))
    if args.get("associate"):
        clauses.append(R.captured_by == args["associate"])
    return clauses


def _parts(session: Session, stores, args, now) -> list[sa.Select]:
    """The list's query, as the parts a text search makes of it (one without text)."""
    todays = local_todays(session, now) if args.get("due") else {}
    query = sa.select(*COLUMNS).join(Store, Store.id == R.store_id).where(
        *filters(stores, args, now, todays))
    return search.parts(session, query, args.get("q"))


def _first(session: Session, parts: list[sa.Select], where: list[sa.ColumnElement],
           order: list[tuple[str, bool]], limit: int) -> list:
    """The first `limit` rows, in `order` ((column, descending) pairs), of the parts
    narrowed by `where`: each part ordered and limited on its own, then merged."""
    def ordered(columns):
        return [columns[name].desc() if descending else columns[name]
                for name, descending in order]

    queries = [part.where(*where).order_by(*ordered(R.__table__.c)).limit(limit)
               for part in parts]
    if len(queries) == 1:
        return session.execute(queries[0]).all()
    merged = sa.union_all(*(sa.select(query.subquery()) for query in queries)).subquery()
    return session.execute(sa.select(merged).order_by(*ordered(merged.c)).limit(limit)).all()


def _maybe_date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _by_created(parts: list[sa.Select], descending: bool, after: str | None,
                limit: int, session: Session) -> tuple[list, str | None]:
    key = sa.tuple_(R.created_at, R.id)
    last = paging.decode(after, (paging.aware_time, uuid.UUID))
    where = [] if last is None else [key < tuple(last) if descending else key > tuple(last)]
    rows = _first(session, parts, where, [("created_at", descending), ("id", descending)],
                  limit + 1)
    return paging.page(rows, limit, lambda r: [r.created_at.isoformat(), str(r.id)])


def _by_due(parts: list[sa.Select], after: str | None, limit: int,
            session: Session) -> tuple[list, str | None]:
    """Due date first, soonest first; requests with no due date after all the others."""
    phase, due, last_id = paging.decode(after, (str, _maybe_date, uuid.UUID)) or ("d", None, None)
    rows = []
    if phase == "d":
        dated = [R.due_date.is_not(None)]
        if last_id is not None:
            dated.append(sa.tuple_(R.due_date, R.id) > (due, last_id))
        rows = _first(session, parts, dated, [("due_date", False), ("id", False)], limit + 1)
        last_id = None
    if len(rows) <= limit:
        undated = [R.due_date.is_(None)]
        if last_id is not None:
            undated.append(R.id > last_id)
        rows += _first(session, parts, undated, [("id", False)], limit + 1 - len(rows))
    return paging.page(rows, limit, lambda r: ["d" if r.due_date else "n",
                                               r.due_date.isoformat() if r.due_date else "",
                                               str(r.id)])


def page(session: Session, stores: list[uuid.UUID] | None, args: dict[str, Any],
         limit: int = PAGE, now: datetime | None = None) -> tuple[list, str | None]:
    """One page of rows and the token of the next page (None on the last)."""
    parts = _parts(session, stores, args, now or utcnow())
    if args.get("sort") == "due":
        return _by_due(parts, args.get("after"), limit, session)
    return _by_created(parts, args.get("sort", "newest") != "oldest", args.get("after"),
                       limit, session)


def stream(session: Session, stores: list[uuid.UUID] | None, args: dict[str, Any],
           now: datetime | None = None, batch: int = 1000) -> Iterator[Any]:
    """Every matching row in the list's order, fetched `batch` at a time."""
    after = None
    while True:
        rows, after = page(session, stores, args | {"after": after}, batch, now)
        yield from rows
        if after is None:
            return
