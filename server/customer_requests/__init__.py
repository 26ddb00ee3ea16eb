"""What customers ask for: back-in-stock calls, special orders, holds, alterations…

Named `customer_requests` so it never shadows the `requests` HTTP library.
"""

from __future__ import annotations


def install() -> None:
    """Register with the change log what requests write into it (the tablet's view, and
    the status history the CRM feed sends), and connect its listeners; called by the app
    factory."""
    from server.changelog import bodies
    from server.core import signals
    from server.customer_requests import history, service
    from server.customer_requests.schemas import RequestOut

    # The lifecycle log is for head office, not the tablets.
    bodies.register("request", RequestOut(exclude=("history",)), history=history.of_records)
    signals.customer_merged.connect(service.move_to_survivor)
