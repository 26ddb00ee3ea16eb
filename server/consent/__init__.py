"""Consent: notices, the append-only ledger of consent events, and the state derived from it."""

from __future__ import annotations


def install() -> None:
    """Connect consent's listeners (server.core.signals); called by the app factory."""
    from server.consent import service
    from server.core import signals

    signals.store_created.connect(service.share_notices_with)
