"""Privacy operations: the map of personal data, and erasure that reaches every copy."""

from __future__ import annotations


def install() -> None:
    """Connect privacy's listeners (server.core.signals); called by the app factory."""
    from server.core import signals
    from server.privacy import erasure, privacy_requests, propagation

    signals.customer_merged.connect(privacy_requests.move_to_survivor)
    signals.customer_merged.connect(erasure.clear_merged)
    signals.erasure_acknowledged.connect(propagation.acknowledged_by_webhook)
