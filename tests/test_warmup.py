"""A server process warms up before its first request, and writes nothing doing it."""

from __future__ import annotations

import gc
import logging
from types import SimpleNamespace

import sqlalchemy as sa

from server import create_app, gunicorn_conf
from server.extensions import db
from server.ops import warmup
from tests.factories import make_customer, make_request


def _counts(session) -> dict[str, int]:
    return {table: session.scalar(sa.select(sa.func.count()).select_from(
        db.metadata.tables[table])) for table in ("changes", "access_log", "api_keys")}


def test_warming_opens_the_connections_and_writes_nothing(app, session, world):
    make_request(session, world.tablet_a.actor, make_customer(session, world.tablet_a.actor))
    before = _counts(session)
    db.session.remove()
    db.engine.dispose()  # a fresh process: no connection yet
    warmup.warm(app)
    with app.app_context():
        assert db.engine.pool.checkedin() >= 2
        assert _counts(db.session) == before


def test_a_worker_whose_warm_up_fails_still_starts(tmp_path, caplog):
    broken = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/db.sqlite3"})
    worker = SimpleNamespace(wsgi=broken, log=logging.getLogger("test.worker"))
    with caplog.at_level(logging.WARNING, logger="test.worker"):
        gunicorn_conf.post_worker_init(worker)
    assert "warm-up skipped: OperationalError" in caplog.text


def test_a_worker_keeps_what_it_loaded_out_of_the_collectors_walks(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db.sqlite3"})
    worker = SimpleNamespace(wsgi=app, log=logging.getLogger("test.worker"))
    try:
        gunicorn_conf.post_worker_init(worker)
        assert gc.get_freeze_count() > 10_000  # the app, its schemas, SQLAlchemy's metadata
    finally:
        gc.unfreeze()
