"""Finding a customer the tablet does not hold yet: ask the server, then pick one.

A customer belongs to no one store. When the local cache has no match, the
associate searches the server; picking a result holds that customer on this
store's tablets (their later changes will be pulled) and puts the record in the
cache at once, so a request can be captured for them straight away.
"""

from __future__ import annotations

import uuid
from typing import Any

from client import cache, normalise
from client.api import ServerApi
from client.errors import CaptureRefused
from client.store import LocalStore

_CRITERIA = ("email", "phone", "phone_suffix", "name")


def find(store: LocalStore, api: ServerApi, criteria: dict[str, str],
         limit: int = 20) -> list[dict[str, Any]]:
    """Customers on the server. As locally, `phone` is a whole number in any form or
    the last 4+ digits of one."""
    criteria = {key: value for key, value in criteria.items() if key in _CRITERIA and value}
    phone = criteria.get("phone")
    if phone and normalise.phone(phone, store.region) is None:
        criteria["phone_suffix"] = normalise.digits(criteria.pop("phone"))
    return api.find_customers(criteria, limit)


def pick(store: LocalStore, api: ServerApi, customer_id: str) -> dict[str, Any]:
    """Hold a customer found on the server here, and cache them as the server has them."""
    try:
        customer_id = str(uuid.UUID(customer_id))
    except ValueError:
        raise CaptureRefused({"id": ["Not a customer id."]}) from None
    api.hold([customer_id])
    customer = api.customer(customer_id)
    with store.transaction():
        cache.apply_change(store, {"entity": "customer", "id": customer_id, "op": "upsert",
                                   "version": customer["version"], "record": customer})
    return customer
