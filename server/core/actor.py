"""Who is acting. Every service takes one, so HTTP, CLI and sync share the same rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    scope: str
    key_id: uuid.UUID | None = None
    store_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    label: str = ""
    channel: str | None = None  # a channel system's key: the channel it sends on

    @property
    def is_tablet(self) -> bool:
        return self.scope == "tablet"

    def may_reach_store(self, store_id: uuid.UUID | None) -> bool:
        """Tablets are bound to their store; other scopes see every store."""
        return not self.is_tablet or store_id == self.store_id

