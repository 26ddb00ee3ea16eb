"""A server process warms up before its first request, and writes nothing doing it."""

from __future__ import annotations

import gc
import logging
import threading
import time
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from server import create_app, gunicorn_conf
from server.changelog import service as changelog
from server.changelog.models import Change, ChangeCounter
from server.dashboard import search_index
from server.extensions import db
from server.ops import warmup
from server.webhooks import service as webhooks
from tests.conftest import is_postgres
from tests.factories import ADMIN, make_customer, make_request


def _counts(session) -> dict[str, int]:
    """Every table's row count, and where the change counter stands."""
    counts = {table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
              for table in db.metadata.sorted_tables}
    return counts | {"counter": session.scalar(sa.select(ChangeCounter.value))}


def test_warming_opens_the_connections_and_writes_nothing(app, session, world):
    make_request(session, world.tablet_a.actor, make_customer(session, world.tablet_a.actor))
    webhooks.create(session, ADMIN, {"url": "https://crm.example.com/hooks", "events": ["*"]},
                    master_key="k" * 32, default_max_attempts=3)  # a rehearsal enqueues
    session.commit()
    before = _counts(session)
    db.session.remove()
    db.engine.dispose()  # a fresh process: no connection yet
    warmup.warm(app)
    with app.app_context():
        assert db.engine.pool.checkedin() >= 2
        assert _counts(db.session) == before


def test_the_rehearsed_push_is_applied_and_logged_before_it_is_undone(app, world, monkeypatch):
    """The rehearsal goes the whole way a push goes (else it warms nothing): every
    mutation applied, its changes numbered under the counter's lock."""
    seen = {}
    original = changelog.write_pending

    def watched(session):
        original(session)
        seen["changes"] = session.execute(sa.select(Change.entity, Change.seq)).all()

    monkeypatch.setattr(changelog, "write_pending", watched)
    warmup.warm(app)
    entities = [entity for entity, _ in seen["changes"]]
    assert entities.count("request") == warmup.REHEARSED_REQUESTS
    assert "customer" in entities


def test_a_worker_whose_warm_up_fails_still_starts(tmp_path, caplog):
    broken = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/db.sqlite3",
                         "SEARCH_INDEX_SECONDS": 0})
    worker = SimpleNamespace(wsgi=broken, log=logging.getLogger("test.worker"))
    with caplog.at_level(logging.WARNING, logger="test.worker"):
        gunicorn_conf.post_worker_init(worker)
    assert "warm-up skipped: OperationalError" in caplog.text


def test_a_worker_keeps_what_it_loaded_out_of_the_collectors_walks(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/db.sqlite3"})
    with app.app_context():
        db.create_all()
    worker, keepers = SimpleNamespace(wsgi=app, log=logging.getLogger("test.worker")), []
    try:
        gunicorn_conf.post_worker_init(worker)
        assert gc.get_freeze_count() > 10_000  # the app, its schemas, SQLAlchemy's metadata
        # and it keeps the search index up to date, in a thread of its own
        keepers = [t for t in threading.enumerate() if isinstance(t, search_index.Keeper)]
        assert [k.engine.url.database for k in keepers] == [f"{tmp_path}/db.sqlite3"]
    finally:
        gc.unfreeze()
        for keeper in keepers:
            keeper.stop()
            keeper.join(10)


@pytest.mark.postgres_only
def test_a_rehearsal_that_would_wait_for_the_change_counter_gives_up(app, session, world,
                                                                     monkeypatch, database_url):
    """A commit logging a large change holds the counter's lock: the worker starts cold
    (post_worker_init logs why) instead of waiting for it."""
    if not is_postgres(database_url):
        pytest.skip("SQLite has no lock timeout: its busy timeout bounds the wait")
    make_customer(session, world.tablet_a.actor)
    session.commit()
    monkeypatch.setattr(warmup, "REHEARSAL_LOCK_WAIT", "300ms")
    with db.engine.connect() as holder:
        # Should the rehearsal wait after all, the lock goes in 10 s and this test fails.
        holder.execute(sa.text("SET LOCAL idle_in_transaction_session_timeout = '10s'"))
        holder.execute(sa.update(ChangeCounter).values(value=ChangeCounter.value))
        before = _counts(session)
        session.commit()
        started = time.monotonic()
        with pytest.raises(sa.exc.OperationalError, match="lock"):
            warmup.warm(app)
        assert time.monotonic() - started < 5
        holder.rollback()
    with app.app_context():
        assert _counts(db.session) == before
