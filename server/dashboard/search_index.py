"""Keeping request_search (dashboard.search) up to date, after the captures commit.

`catch_up` reads the change log from the index's position, in commit order, and
rewrites the search text of each request changed there from the request as it is now;
then it moves the position past what it read, in the same transaction. The change
log's numbers are given in commit order (changelog.service), so nothing committed
before a pass can be numbered after its position. Until a pass reaches a change,
dashboard.search matches that request on its own text: late indexing slows a search a
little, it never hides a request.

One pass runs at a time (a PostgreSQL advisory lock; SQLite has one writer anyway).
Each web process looks in a thread of its own (`keep_up`, started by
server.gunicorn_conf and `python -m server`) every BLACKBOOK_SEARCH_INDEX_SECONDS, and
runs passes when the captures have paused that long, or the oldest unindexed change is
BLACKBOOK_SEARCH_INDEX_LONGEST_SECONDS old (`due`): indexing costs about as much as the
trigram index did inside each capture, so it waits for the burst to end rather than
slow the counter down during it. `flask search catch-up` runs passes by hand,
`flask search rebuild` rewrites it all.

Erasure and retention take the free text out of a request at once: `forget` drops the
request's search text in the same transaction, after any pass at work has committed,
so no copy outlives the request's own (the next pass writes the text back, cleared).
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from server.changelog.models import Change
from server.core.types import utcnow
from server.customer_requests.models import CustomerRequest as R
from server.dashboard import search
from server.dashboard.models import RequestSearch, SearchPosition
from server.extensions import db

log = logging.getLogger("blackbook.search_index")
LOCK = 0x5EA4C1DE  # the advisory lock one pass (or a forget) holds until it commits
PASS = 5000  # change-log entries read in one pass


def _lock(session: Session, wait: bool) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True
    if wait:
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK)))
        return True
    return bool(session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(LOCK))))


def _position(session: Session) -> SearchPosition:
    position = session.get(SearchPosition, 1)
    if position is None:
        position = SearchPosition(id=1, seq=0)
        session.add(position)
    return position


def catch_up(session: Session, most: int = PASS, wait: bool = False) -> int:
    """One pass over at most `most` change-log entries, committed. Returns how many
    were read: 0 when the index is up to date, or (unless `wait`) another pass is at
    work. The work is two statements, whatever the number of requests."""
    if not _lock(session, wait):
        session.rollback()
        return 0
    position = _position(session)
    after = sa.select(Change.seq).where(Change.seq > position.seq)
    end = session.scalar(after.order_by(Change.seq).offset(most - 1).limit(1))
    read = most
    if end is None:  # fewer than `most` left
        read, end = session.execute(sa.select(sa.func.count(), sa.func.max(Change.seq))
                                    .where(Change.seq > position.seq)).one()
    if not read:
        session.rollback()
        return 0
    changed = sa.select(Change.record_id).where(
        Change.entity == "request", Change.seq > position.seq, Change.seq <= end)
    session.execute(sa.delete(RequestSearch).where(RequestSearch.request_id.in_(changed)))
    session.execute(sa.insert(RequestSearch).from_select(
        ["request_id", "text"], sa.select(R.id, search.text_of()).where(R.id.in_(changed))))
    position.seq, position.indexed_at = end, utcnow()
    session.commit()
    return read


def catch_up_all(session: Session, wait: bool = False,
                 stopping: threading.Event | None = None) -> int:
    """Passes until the index is up to date (or `stopping` is set); how many change-log
    entries they read."""
    read = 0
    while not (stopping and stopping.is_set()):
        done = catch_up(session, wait=wait)
        read += done
        if done < PASS:
            break
    return read


def rebuild(session: Session) -> int:
    """Every request's search text written again, and the position set to the change
    log's end; committed. Returns the number of requests."""
    _lock(session, wait=True)
    position = _position(session)
    # The position first: the texts, read after it, are at least as new.
    position.seq = session.scalar(sa.select(sa.func.max(Change.seq))) or 0
    session.execute(sa.delete(RequestSearch))
    session.execute(sa.insert(RequestSearch).from_select(
        ["request_id", "text"], sa.select(R.id, search.text_of())))
    count = session.scalar(sa.select(sa.func.count()).select_from(RequestSearch))
    position.indexed_at = utcnow()
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("ANALYZE request_search"))  # its plans need its statistics
        session.commit()
    return count


def forget(session: Session, request_ids: Iterable[uuid.UUID]) -> None:
    """Drop these requests' search text now, in the caller's transaction (which must
    record a change of each request, so the next pass writes its text back)."""
    ids = list(request_ids)
    if not ids:
        return
    _lock(session, wait=True)  # a pass at work has committed: its rows are seen
    for start in range(0, len(ids), 1000):
        session.execute(sa.delete(RequestSearch).where(
            RequestSearch.request_id.in_(ids[start:start + 1000])))


def due(session: Session, quiet: timedelta, longest: timedelta,
        now: datetime | None = None) -> bool:
    """Whether a pass should run now: something is unindexed, and either the change log
    has been still for `quiet` (the captures paused) or its oldest unindexed entry is
    `longest` old. A burst of captures is indexed when it ends, not while the counter
    waits for it; a search meanwhile matches the burst on the requests' own text."""
    first = session.scalar(sa.select(Change.committed_at).where(
        Change.seq > search.position(session)).order_by(Change.seq).limit(1))
    if first is None:
        return False
    last = session.scalar(sa.select(Change.committed_at).order_by(Change.seq.desc()).limit(1))
    now = now or utcnow()
    return now - last >= quiet or now - first >= longest


def keep_up_for(app: Flask) -> Keeper | None:
    """`keep_up` for this app's database, as its configuration says."""
    with app.app_context():
        engine = db.engine
    return keep_up(engine, app.config["SEARCH_INDEX_SECONDS"],
                   app.config["SEARCH_INDEX_LONGEST_SECONDS"])


def keep_up(engine: sa.Engine, seconds: float, longest: float) -> Keeper | None:
    """A started Keeper, or None when `seconds` is 0."""
    if seconds <= 0:
        return None
    keeper = Keeper(engine, seconds, longest)
    keeper.start()
    return keeper


class Keeper(threading.Thread):
    """A daemon thread that looks every `seconds` and runs passes when one is `due`
    (quiet for `seconds`, or `longest` behind), on connections of its own, until
    stopped. A failing look is logged (its kind only) when it starts failing, and tried
    again at the next look."""

    def __init__(self, engine: sa.Engine, seconds: float, longest: float) -> None:
        super().__init__(name="search-index", daemon=True)
        self.engine, self.seconds = engine, seconds
        self.quiet, self.longest = timedelta(seconds=seconds), timedelta(seconds=longest)
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        failing = None
        self.stopping.wait(random.uniform(0, self.seconds))  # the workers' looks spread out
        while not self.stopping.is_set():
            try:
                with Session(self.engine) as session:
                    if due(session, self.quiet, self.longest):
                        catch_up_all(session, stopping=self.stopping)
                failing = None
            except Exception as error:  # noqa: BLE001 (the next look tries again)
                if type(error).__name__ != failing:
                    failing = type(error).__name__
                    log.warning("search index pass failed: %s", failing)
            self.stopping.wait(self.seconds)
