"""The head-office dashboard: people (not keys) in a browser — users, roles, pages."""

from __future__ import annotations


def install() -> None:
    """The requests' search text: its trigram index for databases made from the models
    (PostgreSQL), and erasure and retention drop it with the request's free text.
    Called by the app factory."""
    from server.dashboard import search, search_index
    from server.privacy import erasure

    search.install()
    erasure.keeps_copies_of_requests(search_index.forget)
