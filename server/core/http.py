"""HTTP details shared by the blueprints: ETags, If-Match, media types."""

from __future__ import annotations

import re

from flask import Response, request
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from server.core.errors import Malformed

_ETAG = re.compile(r'^(?:W/)?"(\d{1,12})"$')


def etag_for(version: int) -> str:
    return f'"{version}"'


def with_etag(response: Response, version: int) -> Response:
    response.headers["ETag"] = etag_for(version)
    return response


def expected_version() -> int | None:
    """The version named by If-Match; None when absent or `*`. -1 never matches."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    match = _ETAG.match(header)
    return int(match.group(1)) if match else -1


# Pages whose forms post as browsers do (application/x-www-form-urlencoded).
HTML_FORMS = frozenset({"customer_page", "dashboard"})


def require_json_body() -> None:
    """Writes must say they send JSON (anything else is a 415, not a guess), and JSON
    that parses: a body nested too deeply or with a number too long to read is a 400
    here, like any syntax error, before a view's argument parser trips over it."""
    if request.method not in ("POST", "PUT", "PATCH") or request.blueprint in HTML_FORMS:
        return
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as application/json.")
    if not request.get_data(cache=True):
        return  # no body: each endpoint says which fields it requires
    try:
        request.get_json(cache=True)  # the app's provider; the argument parser reuses it
    except BadRequest:  # syntax, encoding, nesting, digits
        raise Malformed("The body is not valid JSON.",
                        errors={"json": ["Invalid JSON body."]}) from None

