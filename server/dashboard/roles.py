"""What each role may see and do in the dashboard.

viewer           every store's requests and charts, read only
store_manager    their own store only; may change a request's status
privacy_officer  every store, read only; may read notes flagged sensitive
admin            everything
"""

from __future__ import annotations

import uuid

from server.core.actor import Actor
from server.core.errors import Forbidden, NotFound
from server.dashboard.models import User

MAY_CHANGE_STATUS = frozenset({"store_manager", "admin"})
MAY_READ_SENSITIVE = frozenset({"privacy_officer", "admin"})


def stores_of(user: User) -> list[uuid.UUID] | None:
    """The stores a user sees: None means every store."""
    return [user.store_id] if user.role == "store_manager" else None


def require_store(user: User, store_id: uuid.UUID) -> None:
    """A record of a store the user may not see does not exist, as far as they know."""
    visible = stores_of(user)
    if visible is not None and store_id not in visible:
        raise NotFound("No such request.")


def may_change_status(user: User) -> bool:
    return user.role in MAY_CHANGE_STATUS


def require_status_change(user: User) -> None:
    if not may_change_status(user):
        raise Forbidden("Your role may not change a request's status.")


def may_read_sensitive(user: User) -> bool:
    return user.role in MAY_READ_SENSITIVE


def actor_of(user: User) -> Actor:
    """Services and the access log see a person as scope `user`, by their user id."""
    return Actor(scope="user", key_id=user.id, store_id=user.store_id, label=user.role)
