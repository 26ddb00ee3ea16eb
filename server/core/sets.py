"""`column IN (values)` for the many values a page of records names."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session


def among(session: Session, column: Any, values: Iterable[Any]) -> sa.ColumnElement:
    """On PostgreSQL one array parameter (`= ANY(:ids)`): an IN list of 500 ids is 500
    parameters to render, send and parse on every page. Elsewhere, a plain IN."""
    values = list(values)
    if session.get_bind().dialect.name == "postgresql":
        return column == sa.any_(sa.literal(values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)
