"""gunicorn settings for Blackbook: `gunicorn -c python:server.gunicorn_conf …`.

Each worker warms up (server.ops.warmup) after loading the app and before it takes its
first request, so no request waits for a worker's connections or first compilations.
Warming is a courtesy: if it fails (the database not up yet), the worker serves anyway.

Then the objects the worker holds for its lifetime (the app, its schemas, SQLAlchemy's
metadata and caches: over a hundred thousand) are moved out of the garbage
collector's sight (gc.freeze). Otherwise a full collection walks them all whenever a
request has made enough long-lived objects, and the push it hits stalls for it.

Last, each worker starts the thread that keeps the requests' search index up to date
(dashboard.search_index: one pass at a time across the workers).
"""

from __future__ import annotations

import gc

from server.dashboard import search_index
from server.ops import warmup


def post_worker_init(worker) -> None:
    try:
        warmup.warm(worker.wsgi)
    except Exception as error:  # noqa: BLE001 (any failure: serve cold rather than not at all)
        worker.log.warning("warm-up skipped: %s", type(error).__name__)
    gc.collect()  # nothing left over to freeze
    gc.freeze()
    search_index.keep_up_for(worker.wsgi)
