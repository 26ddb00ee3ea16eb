"""Keyset paging: stable under inserts, and as fast on the last page as the first."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

from server.core.errors import Rejected
from server.core.fields import is_unicode

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArgs(Schema):
    limit = fields.Int(load_default=DEFAULT_LIMIT, validate=validate.Range(1, MAX_LIMIT))
    after = fields.Str(load_default=None, validate=validate.Length(max=400))


def encode(values: list[Any]) -> str:
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def aware_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("naive time")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("no UTC equivalent") from None


def _storable(value: Any) -> str:
    """A token value as text, if a database could hold it (we only ever encode such)."""
    text = str(value)
    if "\x00" in text or not is_unicode(text):
        raise ValueError("not text a database holds")
    return text


def decode(token: str | None, types: tuple[Callable[[str], Any], ...]) -> list[Any] | None:
    """The sort key a previous page ended on, typed; a forged or foreign token is a 422."""
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("wrong shape")
        return [convert(_storable(value))
                for convert, value in zip(types, values, strict=True)]
    except (binascii.Error, ValueError, TypeError):
        raise Rejected(errors={"query": {"after": ["Not a page token from this API."]}}) from None


def page(rows: list[Any], limit: int, key) -> tuple[list[Any], str | None]:
    """Split a limit+1 fetch into the page and the token for the next one."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode(key(rows[-1]))
