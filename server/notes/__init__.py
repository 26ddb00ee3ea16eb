"""Free-text notes about a customer or a request, scanned for sensitive content."""

from __future__ import annotations


def install() -> None:
    """Register with the change log what notes write into it, and connect notes'
    listeners; called by the app factory."""
    from server.changelog import bodies
    from server.core import signals
    from server.notes import service
    from server.notes.schemas import NoteOut

    bodies.register("note", NoteOut(exclude=("warnings",)))
    signals.customer_merged.connect(service.move_to_survivor)
