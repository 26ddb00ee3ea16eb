"""One place that turns every error into RFC 9457 problem+json."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, Response, json
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from server.core.errors import BlackbookError
from server.extensions import db

log = logging.getLogger("blackbook.errors")

PROBLEM_TYPE = "urn:blackbook:problem:{code}"

# Stable codes for HTTP-level errors raised outside our services.
HTTP_CODES = {
    400: "malformed",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    412: "version_mismatch",
    413: "too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    422: "validation_failed",
    428: "precondition_required",
    429: "rate_limited",
    431: "headers_too_large",
}


def problem(status: int, code: str, title: str, detail: str | None = None,
            errors: Any = None, headers: dict | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"type": PROBLEM_TYPE.format(code=code), "title": title,
                            "status": status, "code": code}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype="application/problem+json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


LOCATIONS = frozenset({"json", "query", "path", "headers"})


def _by_location(errors: dict | None) -> dict | None:
    """Field errors keyed by location then field, as the request parser reports them:
    a service names fields of the body, so those go under "json"."""
    if not errors or set(errors) <= LOCATIONS:
        return errors
    return {"json": errors}


def from_domain_error(error: BlackbookError) -> Response:
    _rollback()  # nothing a refused request flushed may reach a later commit
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    if error.status == 503:
        headers = {"Retry-After": "1"}
    return problem(error.status, error.code, error.title, error.detail,
                   _by_location(error.errors), headers, **error.extra)


def from_http_exception(error: HTTPException) -> Response:
    _rollback()
    status = error.code or 500
    code = HTTP_CODES.get(status, "http_error")
    data = getattr(error, "data", None) or {}
    errors = data.get("messages")
    detail = error.description if isinstance(error.description, str) else None
    if errors and status == 422:
        detail = "Some fields are not valid; see errors."
    headers = {}
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    for name, value in (data.get("headers") or {}).items():
        headers[name] = value
    return problem(status, code, error.name, detail, errors, headers)


def _rollback() -> None:
    db.session.rollback()


def from_integrity_error(error: IntegrityError) -> Response:
    # A race between two writers of the same record: the loser gets a 409 and retries.
    _rollback()
    log.info("integrity conflict: %s", type(error.orig).__name__)
    return problem(409, "conflict", "Conflict with the current state",
                   "Another write got there first; read the record again and retry.")


def from_database_error(error: DBAPIError) -> Response:
    _rollback()
    if isinstance(error, OperationalError):
        log.warning("database unavailable: %s", type(error.orig).__name__)
        return problem(503, "unavailable", "Temporarily unavailable, retry shortly",
                       headers={"Retry-After": "1"})
    log.warning("database rejected a value: %s", type(error.orig).__name__)
    return problem(400, "malformed", "Malformed request", "A value is out of range.")


def from_stale_data(error: StaleDataError) -> Response:
    # Two writers of one record at once (the other committed first): like a stale If-Match.
    _rollback()
    log.info("concurrent write of one record")
    return problem(409, "conflict", "Conflict with the current state",
                   "The record was changed by someone else at the same moment; read it "
                   "again and retry.")


def from_unexpected(error: Exception) -> Response:
    _rollback()
    _log_unexpected(error)
    return problem(500, "internal_error", "Internal error")


def _log_unexpected(error: BaseException) -> None:
    # Where it happened, without the message: messages can echo personal data.
    where = "".join(traceback.format_tb(error.__traceback__)[-3:])
    log.error("unhandled %s\n%s", type(error).__name__, where)


class AnswerCut(Exception):
    """A streamed answer failed after its headers had left: it is cut off (the client
    sees an answer that stops short, and asks again)."""


def guarded(chunks: Iterable[bytes | str]) -> Iterator[bytes | str]:
    """A streamed answer's body (Flask's error handlers are behind it once its headers
    have left): a failure is logged as any other, by its type and place and never its
    message, and the answer is cut off by an error that carries nothing else (the WSGI
    server logs that one)."""
    try:
        yield from chunks
    except Exception as error:
        _rollback()
        _log_unexpected(error)
        raise AnswerCut("A streamed answer failed and was cut off (logged before).") from None


def register(app: Flask) -> None:
    app.register_error_handler(BlackbookError, from_domain_error)
    app.register_error_handler(HTTPException, from_http_exception)
    app.register_error_handler(IntegrityError, from_integrity_error)
    app.register_error_handler(StaleDataError, from_stale_data)
    app.register_error_handler(DBAPIError, from_database_error)
    app.register_error_handler(Exception, from_unexpected)
