"""Free-text notes about a customer or a request, scanned for sensitive content."""

from __future__ import annotations


def install() -> None:
    """Register with the change log what notes write into it; called by the app factory."""
    from server.changelog import bodies
    from server.notes.schemas import NoteOut

    bodies.register("note", NoteOut(exclude=("warnings",)))
