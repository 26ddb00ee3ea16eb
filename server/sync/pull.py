"""Pulling changes after a cursor, in commit order, within a store's scope.

The change log is numbered in commit order (see changelog.models.ChangeCounter),
so "every change with seq > cursor" is complete whenever it is read: a reader
that keeps pulling never misses a committed change. A store's stream is the
log's rows for that store (customers are logged once per store that holds them);
each record comes at its latest change only, so a device catching up after weeks
gets each record once, as it was serialised at commit.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from server.audit import access_log
from server.changelog.models import Change, ChangeCounter, ChangeRetention
from server.core import driver
from server.core.actor import Actor
from server.core.errors import Gone
from server.core.uuid_text import uuid_text
from server.sync.cursors import Cursor, decode


class PulledChange(NamedTuple):
    """One change as a caller in Python sees it (the HTTP answer is spliced text)."""

    entity: str
    id: str
    op: str
    version: int
    reason: str | None
    record: dict | None

    @classmethod
    def from_json(cls, text: str) -> PulledChange:
        change = json.loads(text)
        return cls(change["entity"], change["id"], change["op"], change["version"],
                   change.get("reason"), change.get("record"))


def change_json(entity: str, record_id: str, op: str, version: int, reason: str | None,
                record_json: str | None) -> str:
    """A change on the wire: the record goes as it was serialised at commit. A record
    merged into another (reason "merged") names it: `merged_into`."""
    head = f'{{"entity":"{entity}","id":"{record_id}","op":"{op}","version":{version}'
    if op == "delete":
        merged = json.loads(record_json).get("merged_into") if reason == "merged" \
            and record_json else None
        into = f',"merged_into":{json.dumps(merged)}' if merged else ""
        return f'{head},"reason":{json.dumps(reason)}{into}}}'
    return f'{head},"record":{record_json}}}'


@dataclass
class Page:
    items: list[str]  # each change as JSON text: a page is spliced, not re-serialised
    next_cursor: str
    has_more: bool
    customer_ids: set[str] = field(default_factory=set)  # whose data (ids as text)

    @property
    def changes(self) -> list[PulledChange]:
        return [PulledChange.from_json(item) for item in self.items]

    def to_json(self) -> str:
        return (f'{{"changes":[{",".join(self.items)}],"next_cursor":"{self.next_cursor}",'
                f'"has_more":{"true" if self.has_more else "false"}}}')


# A page's planner settings on PostgreSQL (set_config(…, true) is SET LOCAL). A page is a
# short walk along the primary key: starting parallel workers for it costs more than
# the walk. Its lookups (consent, open requests, histories of ~500 records) are index
# probes into cached pages; at the default random_page_cost (a spinning disk's) the
# planner scans whole tables instead, at a cost that grows with the tables.
_PAGE_SETTINGS = (("max_parallel_workers_per_gather", "0"), ("random_page_cost", "1.1"))


def _positions(session: Session) -> tuple[int, int]:
    """The newest committed position (every change at or below it is visible now) and how
    far tombstones were pruned: one round trip, which also applies the page's settings."""
    connection = session.connection()
    query = _positions_query(connection.dialect.name == "postgresql")
    head, floor, *_ = connection.execute(query).one()
    return head, floor or 0


@functools.cache
def _positions_query(postgresql: bool) -> sa.Select:
    columns = [sa.select(ChangeCounter.value).where(ChangeCounter.id == 1).scalar_subquery(),
               sa.select(ChangeRetention.pruned_through).where(ChangeRetention.id == 1)
               .scalar_subquery()]
    if postgresql:
        columns += [sa.func.set_config(name, value, True) for name, value in _PAGE_SETTINGS]
    return sa.select(*columns)


class Logged(NamedTuple):
    """A row of the change log as a page reads it: ids as text, the record as the JSON
    stored at commit. A tuple, because SQLAlchemy's Row answers `row.entity` ten times
    slower than a tuple, and a page asks ~10,000 times."""

    seq: int
    entity: str
    record_id: str
    op: str
    version: int
    reason: str | None
    customer_id: str | None
    body: str | None
    history: str | None  # a request's status history (the CRM feed's; see stream)
    contact: str | None  # what a customer may be contacted on now (the CRM feed's)


def logged_columns(history: bool = False,
                   contact: sa.ColumnElement | None = None) -> list[sa.ColumnElement]:
    """The columns of a Logged row, for a stream's SELECT; a request's history and a
    customer's `contact` read only if asked for (the feed), else NULL."""
    return [Change.seq, Change.entity, uuid_text(Change.record_id).label("record_id"),
            Change.op, Change.version, Change.reason,
            uuid_text(Change.customer_id).label("customer_id"),
            sa.cast(Change.body, sa.Text).label("body"),
            (Change.history if history else sa.null()).label("history"),
            (sa.null() if contact is None else contact).label("contact")]


def stream(scope: sa.ColumnElement, history: bool = False,
           contact: sa.ColumnElement | None = None) -> sa.Select:
    """A stream's query: the changes in `scope` after :after, in commit order, at most
    :limit, none that a later change of its record has superseded (in the same stream:
    a store's, or the log's own for a customer's records; see Change.superseded).

    A reader still in its snapshot (:after below :snapshot_end) has nothing to delete, so
    it gets none of the snapshot's tombstones; past it, `seq > :snapshot_end` holds for
    every row. Built once with parameters: building it took longer than running it."""
    return (sa.select(*logged_columns(history, contact))
            .where(scope, Change.seq > sa.bindparam("after", type_=sa.BigInteger),
                   Change.superseded.is_(False),
                   sa.or_(Change.op != driver.constant("delete"),
                          Change.seq > sa.bindparam("snapshot_end", type_=sa.BigInteger)))
            .order_by(Change.seq)
            .limit(sa.bindparam("limit", type_=sa.Integer)))


@functools.cache
def _store_stream() -> sa.Select:
    return stream(Change.store_id == sa.bindparam("store_id", type_=sa.Uuid))


class CursorExpired(Gone):
    code, title = "cursor_expired", "Cursor too old: resync from a snapshot"


def _check_not_pruned(floor: int, cursor: Cursor) -> None:
    in_snapshot = cursor.after < cursor.snapshot_end and floor <= cursor.snapshot_end
    if cursor.after < floor and not in_snapshot:
        # Tombstones this device has not seen were pruned: only a snapshot is safe.
        raise CursorExpired("Deletions older than this cursor were pruned; pull with no "
                            "cursor to rebuild the local copy (keep the outbox).")


def read(session: Session, query: sa.Select, token: str | None, limit: int,
         **params: object) -> tuple[list[Logged], str, bool]:
    """The next rows of a stream (its `stream` query, and `params`) after `token` (none: a
    snapshot), the cursor after them, and whether more are waiting. The device pull and
    the CRM feed both read this way."""
    head, floor = _positions(session)  # read before the changes: all of it is visible below
    cursor = decode(token) if token else Cursor(after=0, snapshot_end=head)
    _check_not_pruned(floor, cursor)
    params |= {"after": cursor.after, "snapshot_end": cursor.snapshot_end, "limit": limit + 1}
    rows = _fetch(session.connection(), query, params)
    has_more = len(rows) > limit
    rows = rows[:limit]
    after = rows[-1].seq if has_more else max(head, rows[-1].seq if rows else 0, cursor.after)
    return rows, Cursor(after, cursor.snapshot_end).encode(), has_more


def _fetch(connection: sa.Connection, query: sa.Select, params: dict) -> list[Logged]:
    """The rows of a stream's query. PostgreSQL: on the driver's cursor, as Logged tuples
    straight from psycopg (its columns are all plain: ids and bodies cast to text);
    SQLAlchemy's result rows were about a quarter of a pull page's CPU.
    Elsewhere through SQLAlchemy (SQLite stores ids as hex: uuid_text formats them)."""
    if connection.dialect.name != "postgresql":
        return [Logged._make(row) for row in connection.execute(query, params).all()]
    return driver.fetch_all(connection, query, params, row_factory=_logged_rows)


def _logged_rows(cursor) -> Callable[..., Logged]:
    return Logged._make  # psycopg's row factory: a function of each row's values


def pull(session: Session, actor: Actor, token: str | None, limit: int) -> Page:
    """The next page of changes in the device's scope after `token` (none: a snapshot)."""
    rows, next_cursor, has_more = read(session, _store_stream(), token, limit,
                                       store_id=actor.store_id)
    items = [change_json(r.entity, r.record_id, r.op, r.version, r.reason, r.body)
             for r in rows]
    return Page(items, next_cursor, has_more, {r.customer_id for r in rows} - {None})


# The API's way in: a page of changes, logged as one read naming its customers.
read_page = access_log.logs_read("read", "sync pull", lambda page, *_: page.customer_ids)(pull)
