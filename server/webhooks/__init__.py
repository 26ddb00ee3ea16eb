"""Webhooks: signed deliveries of the CRM feed's events, from an outbox written at commit."""

from __future__ import annotations


def install() -> None:
    """Subscribe the outbox to the change log (same transaction); called by the app
    factory."""
    from server.changelog import service as changelog
    from server.webhooks import outbox

    changelog.on_written(outbox.enqueue)
