"""Text search over what a request asked for: one lowercase text of its SKU, category
and description, matched with LIKE '%…%'.

The text is kept beside the requests, in request_search, with a trigram index (pg_trgm,
GIN) on PostgreSQL, so a search that finds nothing in a million requests is an index
probe, not a full scan. A capture does not write it: on the requests, that index was
a quarter of a sync push's insert of its requests, a third to a half of a bare one. The
requests changed since the last indexing pass (dashboard.search_index keeps it
seconds behind) are matched on their own text instead, so a search always sees every
request as it is now:

- the indexed part: requests whose indexed text matches and that have not changed
  since (no change-log entry after the index's position);
- the tail: requests changed after that position, matched on their current text.

`parts` returns both, each to be filtered, ordered and limited on its own and merged
(dashboard.listing): each then keeps its own plan (the trigram index for a rare word,
the newest-first walk for a common one).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from server.changelog.models import Change
from server.core import pg_indexes
from server.customer_requests.models import CustomerRequest as R
from server.dashboard.models import RequestSearch, SearchPosition

INDEX = "ix_request_search_text"
EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
CREATE = f"CREATE INDEX IF NOT EXISTS {INDEX} ON request_search USING gin (text gin_trgm_ops)"


def text_of() -> sa.ColumnElement:
    """A request's searchable text."""
    blank, space = sa.literal_column("''"), sa.literal_column("' '")
    joined = sa.func.coalesce(R.sku, blank).op("||")(space)
    joined = joined.op("||")(sa.func.coalesce(R.category, blank)).op("||")(space)
    return sa.func.lower(joined.op("||")(sa.func.coalesce(R.description, blank)))


def _like(column: sa.ColumnElement, text: str) -> sa.ColumnElement:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


def position(session: Session) -> int:
    """The change log's position the index is up to date with (0: nothing indexed)."""
    return session.scalar(sa.select(SearchPosition.seq).where(SearchPosition.id == 1)) or 0


def _changed_after(seq: int) -> sa.Select:
    """The requests with a change-log entry after `seq`: not yet (re)indexed."""
    return sa.select(Change.record_id).where(Change.entity == "request", Change.seq > seq)


def _in_tail(session: Session, seq: int) -> sa.ColumnElement:
    """The request is one of `_changed_after(seq)`.

    On PostgreSQL the tail's ids are gathered into an array first (an InitPlan) and the
    requests found by their primary key from it, whatever the planner guesses of the
    text's match (the requests hold no statistics of their text): left to its guesses,
    it once scanned all the requests for a common word."""
    later = _changed_after(seq)
    if session.get_bind().dialect.name == "postgresql":
        ids = later.with_only_columns(sa.func.array_agg(Change.record_id)).scalar_subquery()
        return R.id == sa.any_(sa.cast(ids, postgresql.ARRAY(sa.Uuid)))
    return R.id.in_(later)


def parts(session: Session, query: sa.Select, text: str | None) -> list[sa.Select]:
    """`query` (a select over requests) narrowed to the requests whose text holds
    `text`: as two queries whose results do not overlap (see the module's docstring),
    or `query` alone when there is no text."""
    if not text:
        return [query]
    seq = position(session)
    # Probed per candidate (its index on (entity, record_id, seq)): an indexed match
    # changed since is the tail's.
    changed = _changed_after(seq).where(Change.record_id == R.id).exists()
    indexed = sa.exists().where(RequestSearch.request_id == R.id,
                                _like(RequestSearch.text, text))
    return [query.where(indexed, ~changed),
            query.where(_in_tail(session, seq), _like(text_of(), text))]


def install() -> None:
    """Databases made from the models get the index too (PostgreSQL only)."""
    pg_indexes.install(RequestSearch.__table__, INDEX, EXTENSION, CREATE)
