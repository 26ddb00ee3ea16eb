"""One log line per request: method, route pattern, status, time, key prefix scope.

Never the query string, body or Authorization header: they carry emails, phone
numbers and keys. The route pattern (`/api/v1/customers/<uuid:customer_id>`)
says what was called without saying about whom.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, g, request

log = logging.getLogger("blackbook.requests")


def _started() -> None:
    g.started_at = time.perf_counter()


def _finished(response: Response) -> Response:
    elapsed_ms = (time.perf_counter() - g.get("started_at", time.perf_counter())) * 1000
    route = request.url_rule.rule if request.url_rule else "<no route>"
    actor = g.get("actor")
    log.info("%s %s %s %.1fms scope=%s", request.method, route, response.status_code,
             elapsed_ms, actor.scope if actor else "-")
    return response


def install(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_finished)
