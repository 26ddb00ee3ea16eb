"""The head-office dashboard's figures, in one place for the pages to import.

Every function is plain: it takes a SQLAlchemy session, the stores to count (`None`:
every store; a store manager passes their one) and a window of days (`since`, `until`,
both included; by default the last 12 weeks), and returns small frozen dataclasses,
counted in the database with GROUP BY — never every row loaded into Python. Only
aggregates: no customer is named, no associate is ranked.

The rules behind each figure are in the docstrings of the modules below.
"""

from server.dashboard.analytics_contact import (
    ConsentWeek,
    Tally,
    consent_activity,
    follow_up_statuses,
    suppression_reasons,
)
from server.dashboard.analytics_demand import (
    DIMENSIONS,
    Demand,
    is_unmet,
    unmet_demand,
    unmet_demand_all,
)
from server.dashboard.analytics_requests import (
    AGE_BUCKETS,
    Ageing,
    Fulfilment,
    StoreWeek,
    fulfilment_by_store,
    fulfilment_by_type,
    open_request_ageing,
    requests_per_week,
)
from server.dashboard.analytics_sql import WEEKS_BY_DEFAULT, Stores, week_of, weeks, window

__all__ = [
    "AGE_BUCKETS", "DIMENSIONS", "WEEKS_BY_DEFAULT", "Ageing", "ConsentWeek", "Demand",
    "Fulfilment", "StoreWeek", "Stores", "Tally", "consent_activity", "follow_up_statuses",
    "fulfilment_by_store", "fulfilment_by_type", "is_unmet", "open_request_ageing",
    "requests_per_week", "suppression_reasons", "unmet_demand", "unmet_demand_all",
    "week_of", "weeks", "window",
]
