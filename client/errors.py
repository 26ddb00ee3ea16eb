"""The client's errors: one root, and a type for each thing a caller handles differently.

The transport is the only place where `requests` exceptions and problem+json
bodies become these; nothing above it sees an HTTP library's exception.
"""

from __future__ import annotations

from typing import Any


class BlackbookError(Exception):
    """Root of every error this package raises."""


class Offline(BlackbookError):
    """No usable answer from the server (refused, reset, timed out, garbled) after the
    retries. Captures stay in the outbox; sync again later."""


class ProblemError(BlackbookError):
    """The server answered with an error status, described by RFC 9457 problem+json."""

    def __init__(self, status: int, code: str, title: str, detail: str | None = None,
                 errors: Any = None, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {code}: {detail or title}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.errors = errors
        self.retry_after = retry_after


class Malformed(ProblemError):
    """400: the server could not read what was sent (a client bug)."""


class Unauthorized(ProblemError):
    """401: the key is missing, unknown or revoked."""


class Forbidden(ProblemError):
    """403: the key may not do this (a tablet key is bound to its store and device)."""


class NotFound(ProblemError):
    """404."""


class Conflict(ProblemError):
    """409."""


class Gone(ProblemError):
    """410."""


class CursorExpired(Gone):
    """410 `cursor_expired`: deletions after this cursor were pruned; pull a snapshot."""


class TooLarge(ProblemError):
    """413: fewer mutations per push."""


class Invalid(ProblemError):
    """422: field errors, keyed by location and field, in `errors`."""


class RateLimited(ProblemError):
    """429 still answered after the retries (or with a Retry-After too long to wait)."""


class Unavailable(ProblemError):
    """502, 503 or 504 still answered after the retries."""


class ServerError(ProblemError):
    """Any other 5xx: a server bug; retrying the same call will not help."""


class NotATabletKey(BlackbookError):
    """The key works but is not a tablet's: only a tablet key can push and pull."""


class NotConfigured(BlackbookError):
    """The command line has no server or key yet: run `configure` first."""


class CaptureRefused(BlackbookError):
    """A capture the tablet can tell is wrong before the server sees it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{field}: {' '.join(messages)}"
                                   for field, messages in errors.items()))
        self.errors = errors


class NotInOutbox(BlackbookError):
    """No mutation with this id waits in the outbox in the state the caller expected."""


_BY_STATUS: dict[int, type[ProblemError]] = {
    400: Malformed, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict,
    410: Gone, 413: TooLarge, 422: Invalid, 429: RateLimited,
    502: Unavailable, 503: Unavailable, 504: Unavailable,
}
_BY_CODE: dict[str, type[ProblemError]] = {"cursor_expired": CursorExpired}


def problem_class(status: int, code: str | None) -> type[ProblemError]:
    """The exception type for an error answer: by stable `code` first, then by status."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else ProblemError
