"""What the CRM may hold of a customer's contact points, asked in SQL (feed.contact): held
to the rule in Python (consent.ledger, lapsed notices, open requests), and seen end to end
through the feed as time passes, notices ask again and requests close."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.consent import ledger
from server.consent import service as consent
from server.core.types import utcnow
from server.core.vocabulary import CHANNELS
from server.customer_requests import service as requests_service
from server.customer_requests.lifecycle import CLOSED
from server.customer_requests.models import CustomerRequest
from server.feed import contact
from server.feed import service as feeding
from tests.factories import make_customer, make_notice, make_request, record_consent
from tests.feed.test_feed import read_all

SLOT_CHANNELS = ("email", "sms", "post", "all")
ACTIONS = ("grant", "grant", "grant", "withdraw", "deny")


def python_rule(session, customer_id, now) -> frozenset[str]:
    """The rule as the consent service and the ledger state it, one customer at a time."""
    lapsed = consent.lapsed_notices(session)
    found: set[str] = set()
    for (_, channel), event in consent.state_of(session, customer_id).items():
        if ledger.grant_counts(event, now, event.notice_version_id in lapsed):
            found.update(CHANNELS if channel == ledger.ALL else (channel,))
    for request in session.scalars(sa.select(CustomerRequest).where(
            CustomerRequest.customer_id == customer_id, CustomerRequest.status.not_in(CLOSED))):
        found.update(request.notify_channels or ())
    return frozenset(found)


def sql_rule(session, customer_id, now) -> frozenset[str]:
    text = session.execute(sa.select(contact.column(sa.literal(customer_id, sa.Uuid))),
                           {"now": now}).scalar_one()
    return contact.channels(text)


grants = st.lists(st.tuples(
    st.sampled_from(ACTIONS), st.sampled_from(("marketing", "service.request_update")),
    st.sampled_from(SLOT_CHANNELS),
    st.sampled_from((None, 1, 3, 5)),  # expires after so many days, or never
    st.booleans(),                      # cites the notice's later version
), max_size=8)
wishes = st.lists(st.tuples(st.lists(st.sampled_from(("email", "sms", "post")), unique=True),
                            st.booleans()),  # closed since
                  max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=grants, requests=wishes, later_asks_again=st.booleans(),
       days=st.sampled_from((0, 2, 4, 6)))
def test_the_sql_names_the_channels_the_python_rule_does(session, world, events, requests,
                                                         later_asks_again, days):
    actor = world.tablet_a.actor
    key = f"k{utcnow().timestamp()}"
    first = make_notice(session, purposes=("marketing", "service"), key=key)
    second = make_notice(session, purposes=("marketing", "service"), key=key,
                         requires_reconsent=later_asks_again)
    customer = make_customer(session, actor)
    start = utcnow()
    for action, purpose, channel, expires, cites_later in events:
        granting = action == "grant"
        record_consent(session, actor, customer, purpose, channel, action,
                       notice=(second if cites_later else first) if granting else None,
                       expires_at=start + timedelta(days=expires) if granting and expires
                       else None)
    for channels, closed in requests:
        request = make_request(session, actor, customer, notify_channels=channels)
        if closed:
            requests_service.transition(session, actor, request.id, "cancelled",
                                        "customer_cancelled", None)
            session.commit()
    now = start + timedelta(days=days)
    assert sql_rule(session, customer.id, now) == python_rule(session, customer.id, now)


def contact_points(changes, customer):
    [record] = [c["record"] for c in changes if c["entity"] == "customer"
                and c["id"] == str(customer.id)]
    return {name for name in ("email", "phone", "postal_address") if record[name]}


ALL_POINTS = {"email", "phone", "postal_address"}


@pytest.mark.parametrize("case, days_later, expected", [
    ("a grant on email", 0, {"email"}),
    ("a grant on all channels", 0, ALL_POINTS),
    ("a grant by text that expired", 2, set()),
    ("a grant by text not yet expired", 0, {"phone"}),
    ("a grant on a notice that asked again", 0, set()),
    ("an open request that chose post", 0, {"postal_address"}),
    ("a cancelled request that chose post", 0, set()),
    ("a grant withdrawn", 0, set()),
])
def test_the_feed_holds_contact_points_by_the_rule(client, session, world, monkeypatch,
                                                    case, days_later, expected):
    actor = world.tablet_a.actor
    ada = make_customer(session, actor, email="ada@example.com", phone="+447911123456",
                        postal_address={"lines": ["1 High St"], "city": "Leeds",
                                        "country": "GB"})
    notice = make_notice(session)
    if case == "a grant on email":
        record_consent(session, actor, ada, "marketing", "email", notice=notice)
    elif case == "a grant on all channels":
        record_consent(session, actor, ada, "marketing", "all", notice=notice)
    elif case.startswith("a grant by text"):
        record_consent(session, actor, ada, "marketing", "sms", notice=notice,
                       expires_at=utcnow() + timedelta(days=1))
    elif case == "a grant on a notice that asked again":
        record_consent(session, actor, ada, "marketing", "email", notice=notice)
        make_notice(session, requires_reconsent=True)
    elif case.endswith("request that chose post"):
        request = make_request(session, actor, ada, notify_channels=["post"])
        if case.startswith("a cancelled"):
            requests_service.transition(session, actor, request.id, "cancelled",
                                        "customer_cancelled", None)
            session.commit()
    elif case == "a grant withdrawn":
        record_consent(session, actor, ada, "marketing", "email", notice=notice)
        record_consent(session, actor, ada, "marketing", "email", "withdraw")
    later = utcnow() + timedelta(days=days_later)
    monkeypatch.setattr(feeding, "utcnow", lambda: later)
    assert contact_points(read_all(client, world)[0], ada) == expected
