"""Consent: notices, the append-only ledger of consent events, and the state derived from it."""

from __future__ import annotations


def install() -> None:
    """Register with the change log what consent writes into it (events follow their
    customer into a store's scope), and connect consent's listeners
    (server.core.signals); called by the app factory."""
    from server.changelog import bodies, scope
    from server.consent import service
    from server.consent.schemas import ConsentOut, NoticeOut
    from server.core import signals

    bodies.register("consent", ConsentOut())
    bodies.register("notice", NoticeOut())
    scope.followed_by("consent", service.events_of)
    signals.store_created.connect(service.share_notices_with)
    signals.customer_merged.connect(service.carry_refusals)
