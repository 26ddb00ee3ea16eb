"""The record as a tablet sees it, stored with each change at commit.

Serialising once when a record changes, instead of on every pull, is what lets
a pull page be one query whose rows are sent as they are.

The change log knows no domain: each domain registers, at app start, the view of
each entity it writes into the log (`register`), and a request's status history
(`register(..., history=...)`). `create_app` checks that every entity logged has
one (`missing`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import Schema
from sqlalchemy.orm import Session

from server.core.plainschema import QuickDump

# Every entity the log carries (what a pull, the feed and webhooks may meet).
LOGGED = frozenset({"customer", "request", "note", "consent", "notice"})
# Those whose changes carry the record's history too (a request's status history).
WITH_HISTORY = frozenset({"request"})

# The records' histories by id (text), for records whose change carries one.
History = Callable[[Session, list[Any]], dict[str, str]]

_TABLET_VIEW: dict[str, Schema] = {}
_QUICK_VIEW: dict[str, QuickDump] = {}
_HISTORY: dict[str, History] = {}


def register(entity: str, tablet_view: Schema, *, history: History | None = None) -> None:
    """What the log stores for `entity`: its tablet view, and its history if it has one
    (written with each of its changes, for the CRM feed)."""
    _TABLET_VIEW[entity] = tablet_view
    _QUICK_VIEW[entity] = QuickDump(tablet_view)
    if history is not None:
        _HISTORY[entity] = history


def missing(entities: Iterable[str] = LOGGED) -> set[str]:
    """The entities logged that no domain registered a view for."""
    return set(entities) - set(_TABLET_VIEW)


def histories_of(entity: str) -> History | None:
    return _HISTORY.get(entity)


def body(entity: str, record: Any, op: str) -> dict[str, Any] | None:
    if op == "delete":
        return None
    return _TABLET_VIEW[entity].dump(record)


def of_row(entity: str, row: dict[str, Any]) -> dict[str, Any]:
    """The body of a record inserted as a row (every column given): the same JSON as
    `body` dumps from the model, without the schema's machinery."""
    return _QUICK_VIEW[entity].dump(row)
