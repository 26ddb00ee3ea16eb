"""Customers, their contact points and preferences: one customer across all stores."""

from __future__ import annotations


def install() -> None:
    """Register with the change log what customers write into it; called by the app
    factory."""
    import sqlalchemy as sa

    from server.changelog import bodies
    from server.changelog import service as changelog
    from server.customers.models import Customer
    from server.customers.schemas import CustomerOut

    bodies.register("customer", CustomerOut())
    changelog.refuse_captures_for(
        sa.select(Customer.id).where(Customer.id.in_(sa.bindparam("ids", expanding=True)),
                                     Customer.merged_into_id.is_not(None)).limit(1))
