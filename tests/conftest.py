"""Fixtures: one app and schema per test session, tables emptied after every test.

The database is SQLite in a temporary file unless DATABASE_URL names another
(`.ci/run` runs the suite once more with PostgreSQL).
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from server import create_app
from server.core import database
from server.extensions import db
from tests import factories

TEST_SECRET_KEY = "blackbook-tests-master-key"  # signs the tests' webhooks; never a real one


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    url = os.environ.get("DATABASE_URL")
    worker_id = os.environ.get("PYTEST_XDIST_WORKER")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    elif not worker_id or not is_postgres(url):
        yield url
    else:
        # pytest-xdist: each worker empties tables after every test, so each gets a
        # database of its own beside the named one (the role needs CREATEDB).
        with _worker_database(url, f"{url.rsplit('/', 1)[1]}_{worker_id}") as own:
            yield own


@contextmanager
def _worker_database(url: str, name: str):
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield f"{url.rsplit('/', 1)[0]}/{name}"
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    os.environ.setdefault("BLACKBOOK_INSTANCE", str(tmp_path_factory.mktemp("instance")))
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                      "SECRET_KEY": TEST_SECRET_KEY})
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.remove()
    # Test code reads objects the factories made after their session has closed.
    db.session.configure(expire_on_commit=False)
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _empty_tables(attempts: int = 5) -> None:
    """Empty every table. A real server under test may still be finishing a request
    (a tablet page's background sync): PostgreSQL may then pick the TRUNCATE as the
    victim of a deadlock, and it is simply tried again."""
    for attempt in range(attempts):
        try:
            _truncate()
            return
        except sa.exc.OperationalError as error:
            if "deadlock" not in str(error).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _truncate() -> None:
    db.session.remove()
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            names = ", ".join(table.name for table in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
        connection.execute(sa.text("INSERT INTO change_counter (id, value) VALUES (1, 0)"))
        connection.execute(sa.text("INSERT INTO change_retention (id, pruned_through) "
                                   "VALUES (1, 0)"))


@pytest.fixture(autouse=True)
def _clean_database(app):
    with app.app_context(), database.reading():
        yield
        _empty_tables()


class IsolatedClient(FlaskClient):
    """Ends the test's own transaction before each call, as a separate process would.

    Otherwise the test session's open snapshot (SQLite) would hide what the
    request committed, or make its next write fail as stale.
    """

    def open(self, *args, **kwargs):
        db.session.close()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def world(session):
    """Two stores with a tablet each, plus crm, channel and admin keys."""
    return factories.World.build(session)


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


REPO = Path(__file__).resolve().parent.parent
