"""The audit trail: who read, searched, exported or changed a customer's data.

A base package below the domains (as Warehouse's events): it imports only core, and
services call it with the customers they already know (`access_log.read`,
`access_log.changed`). Reading one customer's log is privacy's (privacy.access_history).
"""

from __future__ import annotations


def install() -> None:
    """Databases made from the models get the customer_ids index too (PostgreSQL)."""
    from server.audit.models import CREATE_CUSTOMER_IDS_INDEX, CUSTOMER_IDS_INDEX, AccessEntry
    from server.core import pg_indexes

    pg_indexes.install(AccessEntry.__table__, CUSTOMER_IDS_INDEX, CREATE_CUSTOMER_IDS_INDEX)
