"""The channels on which the CRM may hold a customer's contact points: those on which some
purpose allows contact now, through a grant that counts now on that channel (or on
all), or an open request of theirs that chose it.

Asked in SQL, as a column of the rows the feed reads (`column`), so that a page needs no
lookup of its own for its ~500 customers: looked up apart, the page's grants and open
requests cost two more queries, their ~1,000 rows and their reduction in Python.
`channels` reads the column back.
"""

from __future__ import annotations

import functools
import json

import sqlalchemy as sa

from server.consent import ledger
from server.consent import service as consent
from server.consent.models import ConsentEvent, ConsentState
from server.core import driver
from server.core.types import UTCDateTime
from server.core.vocabulary import CHANNELS
from server.customer_requests.lifecycle import CLOSED
from server.customer_requests.models import CustomerRequest

NOW = sa.bindparam("now", type_=UTCDateTime())  # the reader gives the time of its read


def column(customer_id: sa.ColumnElement) -> sa.ColumnElement:
    """Text naming what this customer may be contacted on now: the channels of their
    grants that count now, comma-separated, then `|`, then the channels chosen for their
    open requests, as JSON lists, comma-separated (`sms,all|["sms"],["email","sms"]`)."""
    granted = (sa.select(sa.func.aggregate_strings(ConsentState.channel, driver.constant(",")))
               .select_from(ConsentState)
               .join(ConsentEvent, ConsentEvent.id == ConsentState.event_id)
               .where(ConsentState.customer_id == customer_id,
                      consent.counts_now(ConsentEvent, NOW))
               .scalar_subquery())
    chosen = (sa.select(sa.func.aggregate_strings(
                  sa.cast(CustomerRequest.notify_channels, sa.Text), driver.constant(",")))
              .where(CustomerRequest.customer_id == customer_id,
                     CustomerRequest.status.not_in([driver.constant(s) for s in sorted(CLOSED)]))
              .scalar_subquery())
    nothing = driver.constant("")
    return sa.func.coalesce(granted, nothing) + driver.constant("|") \
        + sa.func.coalesce(chosen, nothing)


@functools.lru_cache(maxsize=1024)
def channels(text: str | None) -> frozenset[str]:
    """The channels `column`'s text names: a handful of distinct texts among a page's
    hundreds of customers, so each is read once."""
    if not text:
        return frozenset()
    granted, _, chosen = text.partition("|")
    found: set[str] = set()
    for channel in granted.split(",") if granted else ():
        found.update(CHANNELS if channel == ledger.ALL else (channel,))
    for listed in json.loads(f"[{chosen}]"):
        found.update(listed or ())
    return frozenset(found)
