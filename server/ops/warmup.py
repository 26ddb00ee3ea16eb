"""Warming a server process before it takes requests (gunicorn: server/gunicorn_conf.py).

A worker's first request pays once for what every later one reuses: two database
connections (the request's and the access log's; TCP and password authentication)
and the first compilation of the hot statements (the key check, a page of pull and of
the CRM feed), which the first tablet to sync after a restart would otherwise wait
for. `warm` pays it at start, reading
one change at most and leaving nothing written.

A push is rehearsed too: a throwaway store, tablet and customer, and a push of new
requests, logged as a commit would log them (numbered, under the change counter's
lock), then rolled back. Otherwise a worker's first push compiles its statements and
looks up its tables' column types, and takes several times as long as the next
ones (warming the reads alone does not close the gap). After a restart, tablets that
waited sync at once, and every worker's first push is among them. The rehearsal waits
at most REHEARSAL_LOCK_WAIT for a lock.
"""

from __future__ import annotations

import contextlib
import uuid

import sqlalchemy as sa
from flask import Flask

from server.changelog import service as changelog
from server.core.actor import Actor
from server.core.errors import Unauthorized
from server.extensions import db
from server.feed import service as feed
from server.stores import keys
from server.stores import service as stores
from server.sync import pull, push

# As many new requests as make a push take its bulk path (core.bulk.COPY_FROM).
REHEARSED_REQUESTS = 20
# How long the rehearsal waits for a lock (PostgreSQL): the change counter's, held by a
# commit that logs a large change. Past it the worker starts cold rather than late.
REHEARSAL_LOCK_WAIT = "2s"


def warm(app: Flask, connections: int = 2) -> None:
    with app.app_context():
        opened = [db.engine.connect() for _ in range(connections)]
        for connection in opened:
            connection.close()  # back to the pool, still open
        with contextlib.suppress(Unauthorized):
            keys.authenticate(db.session, f"{keys.TOKEN_PREFIX}_warm_up")
        nobody = Actor("tablet", store_id=uuid.uuid4(), label="warm-up")
        pull.pull(db.session, nobody, None, 1)
        feed.feed(db.session, Actor("crm", label="warm-up"), None, 1).to_json()  # written too
        db.session.rollback()
        try:
            _rehearse_push(db.session())  # the session itself: the change log asks it
        finally:
            db.session.rollback()
            db.session.remove()


def _rehearse_push(session) -> None:
    """A push of a new customer and their requests, logged, in a transaction the caller
    rolls back."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"SET LOCAL lock_timeout = '{REHEARSAL_LOCK_WAIT}'"))
    store = stores.create_store(session, f"WARM-{uuid.uuid4().hex[:8]}", "Warm-up", "GB",
                                "Europe/London")
    device = stores.create_device(session, store, "warm-up")
    tablet = Actor("tablet", store_id=store.id, device_id=device.id, label="warm-up")
    customer_id = uuid.uuid4()
    mutations = [_new("customer", customer_id, {"given_name": "Warm-up"})] + [
        _new("request", uuid.uuid4(), {"customer_id": str(customer_id), "type": "hold",
                                       "description": "warm-up"})
        for _ in range(REHEARSED_REQUESTS)]
    results = push.push(session, tablet, device.id, mutations)
    if any(result["status"] != "applied" for result in results):
        raise RuntimeError("the rehearsed push was not applied")
    changelog.write_pending(session)


def _new(entity: str, record_id: uuid.UUID, fields: dict) -> dict:
    return {"mutation_id": str(uuid.uuid4()), "entity": entity, "op": "upsert",
            "id": str(record_id), "base_version": None, "fields": fields}
