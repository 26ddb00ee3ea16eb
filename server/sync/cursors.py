"""Opaque pull cursors: a position in the change log, and where a snapshot ends."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from server.core.errors import Rejected

_FORMAT = re.compile(r"^bb1:(\d{1,18}):(\d{1,18})$")


@dataclass(frozen=True)
class Cursor:
    after: int          # changes with seq > after are still to come
    snapshot_end: int   # until `after` reaches this, tombstones are skipped (fresh device)

    def encode(self) -> str:
        raw = f"bb1:{self.after}:{self.snapshot_end}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str) -> Cursor:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    match = _FORMAT.match(raw)
    if match is None:
        raise Rejected("Not a cursor from this server; pull with no cursor to resync.",
                       errors={"query": {"cursor": ["Not a cursor from this server."]}})
    return Cursor(int(match.group(1)), int(match.group(2)))
