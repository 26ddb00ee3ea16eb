"""The contact policy ("don't cross the line"), the contacts made, and follow-up tasks."""

from __future__ import annotations


def install() -> None:
    """Connect contact's listeners (server.core.signals); called by the app factory."""
    from server.contact import followups
    from server.core import signals

    signals.customer_merged.connect(followups.move_to_survivor)
    signals.request_status_changed.connect(followups.on_status_changed)
