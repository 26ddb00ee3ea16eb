"""The consent ledger: events only ever appended, and the state always rebuildable from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.consent import ledger
from server.consent import service as consent
from server.consent.models import ConsentEvent, ConsentState, ImmutableRecord
from server.core.types import utcnow
from tests.factories import ADMIN, consent_event, make_customer, make_notice

PURPOSES = ("marketing", "marketing.newsletter", "marketing.local_offers", "research",
            "service.request_update")
CHANNELS = ("email", "sms", "post", "all")

events = st.lists(st.tuples(
    st.sampled_from(("grant", "withdraw", "deny", "object")),
    st.sampled_from(PURPOSES), st.sampled_from(CHANNELS),
    st.integers(-5, 5),  # the device clock's offset from the server's, in minutes
), min_size=1, max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=events)
def test_rebuilding_from_the_events_gives_the_stored_state(session, world, sequence):
    notice = make_notice(session, purposes=("marketing", "research", "service"),
                         key=f"all-{len(sequence)}-{utcnow().timestamp()}")
    customer = make_customer(session, world.tablet_a.actor)
    for action, purpose, channel, skew in sequence:
        consent.append(session, world.tablet_a.actor, consent_event(
            customer.id, purpose, channel, action, notice if action == "grant" else None,
            captured_at=utcnow() + timedelta(minutes=skew)))
        session.commit()
    stored = {slot: event.id for slot, event in consent.state_of(session, customer.id).items()}
    rebuilt = consent.rebuild(session, customer.id)
    session.commit()
    assert stored == {slot: event.id for slot, event in rebuilt.items()}
    assert {slot: event.id for slot, event in consent.state_of(session, customer.id).items()} \
        == stored
    # and every slot ever spoken for has a state row
    assert set(stored) == {(p, c) for _, p, c, _ in sequence}


class Fact:
    def __init__(self, ordinal, action, received, captured, purpose="marketing", channel="email"):
        self.ordinal, self.action, self.purpose, self.channel = ordinal, action, purpose, channel
        self.received_at, self.captured_at, self.expires_at = received, captured, None


T = datetime(2026, 11, 23, 12, tzinfo=UTC)


@pytest.mark.parametrize(("earlier", "later", "wins"), [
    (("grant", T, T), ("withdraw", T, T - timedelta(days=9)), True),  # refusals always land
    (("withdraw", T, T), ("grant", T + timedelta(hours=1), T + timedelta(minutes=5)), True),
    (("withdraw", T, T), ("grant", T + timedelta(hours=1), T - timedelta(minutes=5)), False),
    (("deny", T, T), ("grant", T + timedelta(hours=1), None), True),  # no device time: receipt
    (("grant", T, T), ("grant", T + timedelta(hours=1), T - timedelta(days=3)), True),
    (("object", T, T), ("withdraw", T + timedelta(hours=1), T - timedelta(days=3)), True),
])
def test_order_is_receipt_except_that_an_older_grant_never_undoes_a_refusal(earlier, later,
                                                                          wins):
    first = Fact(1, earlier[0], earlier[1], earlier[2])
    second = Fact(2, later[0], later[1], later[2])
    assert ledger.supersedes(second, first) is wins
    assert ledger.fold([second, first])[("marketing", "email")] is (second if wins else first)


def test_events_and_notices_refuse_to_change_or_go(session, world):
    notice = make_notice(session)
    customer = make_customer(session, world.tablet_a.actor)
    event = consent.append(session, ADMIN, consent_event(customer.id, notice=notice))
    session.commit()
    for change in (lambda: setattr(event, "action", "withdraw"),
                   lambda: session.delete(event),
                   lambda: setattr(notice, "text", "Something else"),
                   lambda: session.delete(notice)):
        change()
        with pytest.raises(ImmutableRecord):
            session.flush()
        session.rollback()
    assert session.get(ConsentEvent, event.id).action == "grant"


def test_state_rows_point_at_the_latest_event_per_slot(session, world):
    notice = make_notice(session)
    customer = make_customer(session, world.tablet_a.actor)
    first = consent.append(session, ADMIN, consent_event(customer.id, notice=notice))
    second = consent.append(session, ADMIN, consent_event(customer.id, action="withdraw"))
    session.commit()
    rows = session.scalars(sa.select(ConsentState).where(
        ConsentState.customer_id == customer.id)).all()
    assert [(r.purpose, r.channel, r.event_id) for r in rows] == [
        ("marketing", "email", second.id)]
    assert [e.ordinal for e in consent.events_of(session, customer.id)] == [1, 2]
    assert first.ordinal == 1
