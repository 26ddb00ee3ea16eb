"""gunicorn settings for Blackbook: `gunicorn -c python:server.gunicorn_conf …`.

Each worker warms up (server.ops.warmup) after loading the app and before it takes its
first request, so no request waits for a worker's connections or first compilations.
Warming is a courtesy: if it fails (the database not up yet), the worker serves anyway.
"""

from __future__ import annotations

from server.ops import warmup


def post_worker_init(worker) -> None:
    try:
        warmup.warm(worker.wsgi)
    except Exception as error:  # noqa: BLE001 (any failure: serve cold rather than not at all)
        worker.log.warning("warm-up skipped: %s", type(error).__name__)
