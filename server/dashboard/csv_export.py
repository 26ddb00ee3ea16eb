"""The request list as CSV, one line at a time (a million rows never sit in memory)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

HEADER = ("id", "store", "type", "status", "status_reason", "sku", "description", "size",
          "colour", "category", "quantity", "due_date", "captured_by", "created_at",
          "updated_at")
# A cell starting with one of these is a formula to a spreadsheet: quote it as text.
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(FORMULA) else text


def lines(rows: Iterable[Any]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([cell(value) for value in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
