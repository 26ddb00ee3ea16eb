"""Text search over what a request asked for: one lowercase text of its SKU, category
and description, matched with LIKE '%…%'.

On PostgreSQL a trigram index (pg_trgm, GIN) serves that match, so a search that finds
nothing in a million requests is an index probe, not a full scan. The index is created
by migration 0014 and, for databases made from the models (tests), after the table
(core.pg_indexes).
"""

from __future__ import annotations

import sqlalchemy as sa

from server.core import pg_indexes
from server.customer_requests.models import CustomerRequest as R

INDEX = "ix_requests_search"
EXTENSION = "CREATE EXTENSION IF NOT EXISTS pg_trgm"
CREATE = (f"CREATE INDEX IF NOT EXISTS {INDEX} ON requests USING gin "
          "((lower(COALESCE(sku, '') || ' ' || COALESCE(category, '') || ' ' || "
          "COALESCE(description, ''))) gin_trgm_ops)")


def text_of() -> sa.ColumnElement:
    """The indexed expression, spelt with literals (a bound '' would not match it)."""
    blank, space = sa.literal_column("''"), sa.literal_column("' '")
    joined = sa.func.coalesce(R.sku, blank).op("||")(space)
    joined = joined.op("||")(sa.func.coalesce(R.category, blank)).op("||")(space)
    return sa.func.lower(joined.op("||")(sa.func.coalesce(R.description, blank)))


def matches(text: str) -> sa.ColumnElement:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return text_of().like(f"%{escaped}%", escape="\\")


def install() -> None:
    """Databases made from the models get the index too (PostgreSQL only)."""
    pg_indexes.install(R.__table__, INDEX, EXTENSION, CREATE)
