"""Optimistic concurrency: an edit may name the version it was based on."""

from __future__ import annotations

from typing import Any

from server.core.errors import PreconditionFailed


def check_version(record: Any, expected: int | None) -> None:
    """Refuse the edit (412) when the record moved on since the caller read it."""
    if expected is not None and expected != record.version:
        raise PreconditionFailed(f"The record is at version {record.version}.",
                                 current_version=record.version)
