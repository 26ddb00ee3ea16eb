"""What each key scope may do. One table, checked by one function."""

from __future__ import annotations

from server.core.actor import Actor
from server.core.errors import Forbidden
from server.core.wording import with_article

PERMISSIONS: dict[str, frozenset[str]] = {
    "me:read": frozenset({"tablet", "crm", "channel", "admin"}),
    "stores:read": frozenset({"tablet", "crm", "admin"}),
    "stores:write": frozenset({"admin"}),
    "customers:read": frozenset({"tablet", "crm", "admin"}),
    "customers:write": frozenset({"tablet", "admin"}),
    "customers:merge": frozenset({"admin"}),  # head office: two records of one person
    "requests:read": frozenset({"tablet", "crm", "admin"}),
    "requests:write": frozenset({"tablet", "admin"}),
    "notes:read": frozenset({"tablet", "crm", "admin"}),
    "notes:write": frozenset({"tablet", "admin"}),
    "notices:read": frozenset({"tablet", "crm", "channel", "admin"}),
    "notices:write": frozenset({"admin"}),
    "consents:read": frozenset({"tablet", "crm", "admin"}),
    # Grants and denials come from where the customer is asked: the counter, or head office.
    "consents:write": frozenset({"tablet", "admin"}),
    # Withdrawing must be as easy as granting: the CRM (unsubscribe links) and the
    # channel systems (a STOP reply) record refusals too.
    "consents:withdraw": frozenset({"tablet", "crm", "channel", "admin"}),
    "contact:read": frozenset({"tablet", "crm", "channel", "admin"}),
    "followups:read": frozenset({"crm", "admin"}),
    "followups:write": frozenset({"crm", "admin"}),
    # A channel system works its own channel's tasks, and sees only what sending needs.
    "followups:work": frozenset({"channel"}),
    # The feed is the CRM's: every store, reduced to what the CRM may hold.
    "feed:read": frozenset({"crm"}),
    # Where the CRM's events are sent, and the secrets that sign them: head office only.
    "webhooks:admin": frozenset({"admin"}),
    # The privacy officer's work (admin keys for now; people and roles come with the
    # dashboard).
    "privacy:export": frozenset({"admin"}),
    "privacy:erase": frozenset({"admin"}),
    # Sync is for devices: a push or pull is scoped by the key's store and device.
    "sync:push": frozenset({"tablet"}),
    "sync:pull": frozenset({"tablet"}),
}


def require(actor: Actor, permission: str) -> None:
    if actor.scope not in PERMISSIONS[permission]:
        raise Forbidden(f"{with_article(actor.scope).capitalize()} key may not do this "
                        f"({permission}).")
