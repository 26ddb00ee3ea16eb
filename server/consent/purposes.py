"""Purposes of contact and processing, as dotted keys in a hierarchy.

A withdrawal or objection for a purpose reaches its children (`marketing` covers
`marketing.newsletter`); a grant covers only what it names and its children.
"""

from __future__ import annotations

PURPOSES: dict[str, str] = {
    "service": "About something the customer asked for",
    "service.request_update": "Updates about a request: back in stock, ready, due",
    "marketing": "Offers and news",
    "marketing.newsletter": "The newsletter",
    "marketing.local_offers": "Offers from the customer's stores",
    "marketing.events": "Invitations to in-store events",
    "personalisation": "Recommendations chosen from preferences and past requests",
    "research": "Surveys and research about the service",
}

REQUEST_UPDATES = "service.request_update"  # telling a customer about their request

# Contact for these purposes is promotional: it needs a live grant (post: no opt-out).
PROMOTIONAL_ROOTS = frozenset({"marketing", "personalisation", "research"})


def is_known(purpose: str) -> bool:
    return purpose in PURPOSES


def lineage(purpose: str) -> list[str]:
    """The purpose and its ancestors, nearest first: `a.b.c` → `a.b.c`, `a.b`, `a`."""
    parts = purpose.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def covers(general: str, specific: str) -> bool:
    """Does an event about `general` speak for `specific` (itself or a descendant)?"""
    return specific == general or specific.startswith(general + ".")


def root(purpose: str) -> str:
    return purpose.split(".", 1)[0]


def is_service(purpose: str) -> bool:
    return root(purpose) == "service"


def is_promotional(purpose: str) -> bool:
    return root(purpose) in PROMOTIONAL_ROOTS
