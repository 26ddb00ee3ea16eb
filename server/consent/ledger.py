"""Deriving consent from the append-only events. Pure: no database, no clock.

Order is the server's order of receipt (`ordinal`), never a device clock, with one
safety rule in the restrictive direction only: a grant captured (device time)
before the server received a refusal of the same slot does not undo that refusal.
An offline tablet that pushes last week's "yes" after the customer said "no" by
email yesterday must not turn the "no" back into a "yes"; at worst a genuinely
newer grant from a tablet with a slow clock is ignored, and the customer is asked
again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

ACTIONS = ("grant", "withdraw", "deny", "object")
REFUSALS = frozenset({"withdraw", "deny", "object"})
ALL = "all"


class Event(Protocol):
    ordinal: int
    purpose: str
    channel: str
    action: str
    captured_at: datetime | None
    received_at: datetime
    expires_at: datetime | None


def supersedes(later: Event, earlier: Event) -> bool:
    """Does `later` (received after `earlier`) speak instead of it?"""
    if later.ordinal <= earlier.ordinal:
        return False
    stale_grant = (later.action == "grant" and earlier.action in REFUSALS
                   and later.captured_at is not None
                   and later.captured_at < earlier.received_at)
    return not stale_grant


def step(state: dict[tuple[str, str], Event], event: Event) -> bool:
    """Fold one event into the state (in receipt order); True when it took the slot."""
    slot = (event.purpose, event.channel)
    current = state.get(slot)
    if current is None or supersedes(event, current):
        state[slot] = event
        return True
    return False


def fold(events: Iterable[Event]) -> dict[tuple[str, str], Event]:
    """The event that speaks for each (purpose, channel), from all of a customer's events."""
    state: dict[tuple[str, str], Event] = {}
    for event in sorted(events, key=lambda e: e.ordinal):
        step(state, event)
    return state


def is_live_grant(event: Event, now: datetime) -> bool:
    return event.action == "grant" and (event.expires_at is None or event.expires_at > now)


def grant_counts(event: Event, now: datetime, lapsed: bool) -> bool:
    """Whether this event is a grant that counts at `now`: live (`is_live_grant`), and
    citing a notice version that has not lapsed (a later one asked to consent again).
    The one rule for the consent summary and the contact policy; consent.counts_now
    is its SQL form."""
    return not lapsed and is_live_grant(event, now)
