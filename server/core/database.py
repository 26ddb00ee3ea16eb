"""Engine settings that make SQLite and PostgreSQL behave alike where it matters."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from server.core import json

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# SQLite: writers BEGIN IMMEDIATE, taking the write lock up front, so two writers
# queue instead of one failing when it upgrades a read snapshot to a write.
# Reads BEGIN DEFERRED and never block anyone (WAL).
_begin_statement: ContextVar[str] = ContextVar("sqlite_begin", default="BEGIN IMMEDIATE")


def _sqlite_connect(dbapi_connection, connection_record) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(connection) -> None:
    connection.exec_driver_sql(_begin_statement.get())


@contextmanager
def reading() -> Iterator[None]:
    """Transactions begun inside only read (SQLite: BEGIN DEFERRED)."""
    token = _begin_statement.set("BEGIN")
    try:
        yield
    finally:
        _begin_statement.reset(token)


def mark_read_requests() -> None:
    if request.method in READ_METHODS:
        g.sqlite_begin_token = _begin_statement.set("BEGIN")


def unmark_read_requests(error: BaseException | None = None) -> None:
    token = g.pop("sqlite_begin_token", None)
    if token is not None:
        _begin_statement.reset(token)


def configure(engine: Engine) -> None:
    if engine.dialect.name == "sqlite" and not event.contains(engine, "begin", _sqlite_begin):
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)


def engine_options(url: str) -> dict:
    # JSON columns written by orjson (server.core.json), on both databases.
    options = {"json_serializer": json.text}
    if url.startswith("sqlite"):
        return options | {"connect_args": {"timeout": 10, "check_same_thread": False}}
    return options | {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10}
