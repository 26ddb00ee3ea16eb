"""Errors as values with a type, each with a stable machine `code`.

Services raise these; one handler (server.core.problems) renders every one of
them, and every HTTP error, as RFC 9457 problem+json. Codes never change meaning
once published; tablets in the field match on them.
"""

from __future__ import annotations

from typing import Any

FieldErrors = dict[str, Any]


class BlackbookError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(self, detail: str | None = None, *, errors: FieldErrors | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = errors
        self.extra = extra


class Malformed(BlackbookError):
    status, code, title = 400, "malformed", "Malformed request"


class Unauthorized(BlackbookError):
    status, code, title = 401, "unauthorized", "Authentication required"


class Forbidden(BlackbookError):
    status, code, title = 403, "forbidden", "Not allowed for this key"


class NotFound(BlackbookError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(BlackbookError):
    status, code, title = 409, "conflict", "Conflict with the current state"


class IllegalTransition(Conflict):
    code, title = "illegal_transition", "Status change not allowed"


class AlreadyExists(Conflict):
    code, title = "already_exists", "A record with this id already exists"


class Gone(BlackbookError):
    status, code, title = 410, "gone", "Gone"


class PreconditionFailed(BlackbookError):
    status, code, title = 412, "version_mismatch", "The record changed since you read it"


class Rejected(BlackbookError):
    """Permanent field errors: the same input will fail the same way."""

    status, code, title = 422, "validation_failed", "Some fields are not valid"


class Unavailable(BlackbookError):
    status, code, title = 503, "unavailable", "Temporarily unavailable, retry shortly"
