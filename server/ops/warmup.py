"""Warming a server process before it takes requests (gunicorn: server/gunicorn_conf.py).

A worker's first request pays once for what every later one reuses: two database
connections (the request's and the access log's; TCP and password authentication,
~15 ms each) and the first compilation of the hot statements (the key check, a page
of pull and of the CRM feed): 60-90 ms in all on this machine, which the first tablet
to sync after a restart would otherwise wait for. `warm` pays it at start, reading
one change at most and writing nothing.
"""

from __future__ import annotations

import contextlib
import uuid

from flask import Flask

from server.core.actor import Actor
from server.core.errors import Unauthorized
from server.extensions import db
from server.feed import service as feed
from server.stores import keys
from server.sync import pull


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
        db.session.remove()
