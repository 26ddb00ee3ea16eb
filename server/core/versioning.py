"""Optimistic concurrency: an edit may name the version it was based on."""

from __future__ import annotations

from typing import Any

from server.core.errors import PreconditionFailed


def check_version(record: Any, expected: int | None) -> None:
    """Refuse the edit (412) when the record moved on since the caller read it."""
    if expected is not None and expected != record.version:
        raise PreconditionFailed(f"The record is at version {record.version}.",
                                 current_version=record.version)


def assign(record: Any, changes: dict[str, Any]) -> list[str]:
    """Set the fields whose value differs; note the version each will change at."""
    changed = [name for name, value in changes.items() if getattr(record, name) != value]
    for name in changed:
        setattr(record, name, changes[name])
    if changed:
        next_version = (record.version or 0) + 1
        record.field_versions = {**(record.field_versions or {}),
                                 **dict.fromkeys(changed, next_version)}
    return changed


def changed_since(record: Any, base_version: int, fields: dict[str, Any]) -> list[str]:
    """Fields sent by someone who last saw `base_version` that were changed since then
    to a different value than the one they send."""
    versions = record.field_versions or {}
    return sorted(name for name, value in fields.items()
                  if versions.get(name, 1) > base_version
                  and getattr(record, name, value) != value)
