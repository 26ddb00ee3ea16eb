"""core.alongside: database work on a connection of its own, in another thread on
PostgreSQL (where the database works in parallel), at once elsewhere; its result or its
error comes back through result(), in the caller's thread."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from server.core import alongside
from server.extensions import db
from tests.conftest import is_postgres


def _where_and_what(engine: sa.Engine) -> tuple[str, int]:
    with engine.connect() as connection:
        answer = connection.execute(sa.text("SELECT 41 + 1")).scalar()
    return threading.current_thread().name, answer


def _fails(engine: sa.Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT * FROM no_such_table"))


def test_the_work_runs_beside_the_caller_on_postgresql_and_at_once_elsewhere(app, database_url):
    with app.app_context():
        engine = db.engine
        pending = alongside.start(engine, _where_and_what, engine)
        if not is_postgres(database_url):
            assert pending.done()  # SQLite: done before start returned
        thread, answer = pending.result(timeout=10)
    assert answer == 42
    assert (thread != threading.current_thread().name) == is_postgres(database_url)


def test_an_error_comes_back_to_the_caller(app):
    with app.app_context():
        pending = alongside.start(db.engine, _fails, db.engine)
        with pytest.raises(sa.exc.ProgrammingError if db.engine.dialect.name == "postgresql"
                           else sa.exc.OperationalError):
            pending.result(timeout=10)
