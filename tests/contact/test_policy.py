"""The contact policy's rules as tables: one subject, one question, the expected answer.

Each case builds the facts about a customer (consent events in order of receipt,
settings, requests, contacts made), asks `decide`, and checks whether it is allowed
and which reason codes it gives — all of them, not just the first.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server.contact.policy import (
    ConsentFact,
    ContactFact,
    Context,
    RequestFact,
    Subject,
    decide,
    options,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday, noon in London
CUSTOMER = uuid.UUID(int=1)
REQUEST = uuid.UUID(int=2)
SENSITIVE_NOTE = uuid.UUID(int=3)
_ordinals = itertools.count(1)


def ev(action: str, purpose: str = "marketing", channel: str = "email", *,
       days_ago: float = 10, captured_days_ago: float | None = None,
       expires_in_days: float | None = None, lapsed: bool = False) -> ConsentFact:
    """An event; events are received in the order they are written in a case."""
    received = NOW - timedelta(days=days_ago)
    captured = NOW - timedelta(days=captured_days_ago) if captured_days_ago is not None \
        else received
    expires = NOW + timedelta(days=expires_in_days) if expires_in_days is not None else None
    return ConsentFact(uuid.uuid4(), next(_ordinals), purpose, channel, action, received,
                       captured, expires, lapsed)


def subject(*events: ConsentFact, **overrides) -> Subject:
    base = Subject(customer_id=CUSTOMER,
                   contact_points=dict.fromkeys(("email", "sms", "phone", "post"), True),
                   consents=list(events), timezone="Europe/London",
                   requests={REQUEST: RequestFact(REQUEST, CUSTOMER, "ready", ("sms",))},
                   sensitive_notes=frozenset({SENSITIVE_NOTE}))
    return replace(base, **overrides)


def contacts(n: int, days_ago_from: float = 1, purpose: str = "marketing",
             topic: str | None = None) -> list[ContactFact]:
    return [ContactFact(uuid.uuid4(), "email", purpose, topic,
                        NOW - timedelta(days=days_ago_from + i)) for i in range(n)]


def codes(decision) -> set[str]:
    return {r.code for r in decision.reasons if r.blocking}


# (name, subject, purpose, channel, context, allowed, blocking reason codes)
CASES = [
    # standing rules
    ("erased", subject(ev("grant"), erased=True), "marketing", "email", Context(), False,
     {"erased"}),
    ("restricted", subject(ev("grant"), restricted=True), "marketing", "email", Context(),
     False, {"restricted"}),
    ("no email address", subject(ev("grant"), contact_points={"email": False}), "marketing",
     "email", Context(), False, {"no_contact_point"}),
    ("suppressed address", subject(ev("grant"), suppressions={"email": uuid.uuid4()}),
     "marketing", "email", Context(), False, {"suppressed"}),
    # grants per channel
    ("email needs a grant", subject(), "marketing", "email", Context(), False, {"no_grant"}),
    ("sms needs a grant", subject(), "marketing.local_offers", "sms", Context(), False,
     {"no_grant"}),
    ("phone needs a grant", subject(), "marketing", "phone", Context(), False, {"no_grant"}),
    ("live email grant", subject(ev("grant")), "marketing", "email", Context(), True, set()),
    ("a parent's grant covers the child", subject(ev("grant", "marketing")),
     "marketing.newsletter", "email", Context(), True, set()),
    ("a child's grant does not cover the parent", subject(ev("grant", "marketing.newsletter")),
     "marketing", "email", Context(), False, {"no_grant"}),
    ("a grant on all channels", subject(ev("grant", channel="all")), "marketing", "sms",
     Context(), True, set()),
    ("expired grant", subject(ev("grant", expires_in_days=-1)), "marketing", "email",
     Context(), False, {"grant_expired"}),
    ("grant under a notice that asks again", subject(ev("grant", lapsed=True)), "marketing",
     "email", Context(), False, {"reconsent_required"}),
    ("post without any event", subject(), "marketing", "post", Context(), True, set()),
    ("post after a denial on post", subject(ev("deny", channel="post")), "marketing", "post",
     Context(), False, {"denied"}),
    ("a denial on email stays on email", subject(ev("deny"), ev("grant", channel="sms")),
     "marketing", "sms", Context(), True, set()),
    ("withdrawn on the channel", subject(ev("grant", days_ago=20), ev("withdraw")),
     "marketing", "email", Context(), False, {"withdrawn"}),
    ("granted again after withdrawing", subject(ev("withdraw", days_ago=20), ev("grant")),
     "marketing", "email", Context(), True, set()),
    # the cross-channel rule
    ("newsletter out by email stops the newsletter by post",
     subject(ev("withdraw", "marketing.newsletter", "email")), "marketing.newsletter", "post",
     Context(), False, {"withdrawn_elsewhere"}),
    ("newsletter out by email stops a newsletter sms granted before",
     subject(ev("grant", "marketing.newsletter", "sms", days_ago=30),
             ev("withdraw", "marketing.newsletter", "email")),
     "marketing.newsletter", "sms", Context(), False, {"withdrawn_elsewhere"}),
    ("newsletter out by email leaves local-offer texts standing",
     subject(ev("grant", "marketing.local_offers", "sms", days_ago=30),
             ev("withdraw", "marketing.newsletter", "email")),
     "marketing.local_offers", "sms", Context(), True, set()),
    ("marketing out by email stops local-offer texts granted before",
     subject(ev("grant", "marketing.local_offers", "sms", days_ago=30),
             ev("withdraw", "marketing", "email")),
     "marketing.local_offers", "sms", Context(), False, {"withdrawn_elsewhere"}),
    ("a local-offer texts grant made after the marketing withdrawal stands",
     subject(ev("withdraw", "marketing", "email", days_ago=30),
             ev("grant", "marketing.local_offers", "sms")),
     "marketing.local_offers", "sms", Context(), True, set()),
    ("…but not for the rest of marketing on sms",
     subject(ev("withdraw", "marketing", "email", days_ago=30),
             ev("grant", "marketing.local_offers", "sms")),
     "marketing.newsletter", "sms", Context(), False, {"no_grant", "withdrawn_elsewhere"}),
    ("a post catalogue after a marketing withdrawal by email",
     subject(ev("withdraw", "marketing", "email")), "marketing.newsletter", "post", Context(),
     False, {"withdrawn_elsewhere"}),
    ("a withdrawal by sms reaches email (the other direction)",
     subject(ev("grant", "marketing", "email", days_ago=30),
             ev("withdraw", "marketing", "sms")),
     "marketing", "email", Context(), False, {"withdrawn_elsewhere"}),
    ("re-granting on email does not reopen post",
     subject(ev("withdraw", "marketing", "email", days_ago=30), ev("grant", "marketing")),
     "marketing", "post", Context(), False, {"withdrawn_elsewhere"}),
    ("a withdrawal never reaches another purpose",
     subject(ev("withdraw", "marketing", "email"), ev("grant", "research", "email")),
     "research", "email", Context(), True, set()),
    ("an objection blocks every channel",
     subject(ev("grant", "marketing", "email", days_ago=30), ev("object", "marketing", "phone")),
     "marketing", "email", Context(), False, {"objected_elsewhere"}),
    ("an objection blocks post too", subject(ev("object", "marketing", "phone")),
     "marketing.newsletter", "post", Context(), False, {"objected_elsewhere"}),
    ("a newer specific grant after a parent withdrawal",
     subject(ev("withdraw", "marketing", "email", days_ago=30),
             ev("grant", "marketing.newsletter", "email")),
     "marketing.newsletter", "email", Context(), True, set()),
    ("a parent withdrawal after a specific grant",
     subject(ev("grant", "marketing.newsletter", "email", days_ago=30),
             ev("withdraw", "marketing", "email")),
     "marketing.newsletter", "email", Context(), False, {"withdrawn"}),
    # device clocks: a grant captured before a refusal the server held never undoes it
    ("an old offline grant arriving after a withdrawal",
     subject(ev("withdraw", days_ago=2), ev("grant", days_ago=1, captured_days_ago=7)),
     "marketing", "email", Context(), False, {"withdrawn"}),
    # sensitive data
    ("chosen with a sensitive note", subject(ev("grant")), "marketing", "email",
     Context(based_on_notes=(SENSITIVE_NOTE,)), False, {"sensitive_data"}),
    ("chosen with an ordinary note", subject(ev("grant")), "marketing", "email",
     Context(based_on_notes=(uuid.uuid4(),)), True, set()),
    # service messages
    ("service needs a request", subject(), "service.request_update", "sms", Context(), False,
     {"no_request"}),
    ("service about someone else's request",
     subject(requests={REQUEST: RequestFact(REQUEST, uuid.uuid4(), "ready", ("sms",))}),
     "service.request_update", "sms", Context(request_id=REQUEST), False, {"no_request"}),
    ("service on the chosen channel", subject(), "service.request_update", "sms",
     Context(request_id=REQUEST), True, set()),
    ("service on a channel not chosen", subject(ev("grant", channel="all")),
     "service.request_update", "email", Context(request_id=REQUEST), False,
     {"channel_not_chosen"}),
    ("service about a closed request",
     subject(requests={REQUEST: RequestFact(REQUEST, CUSTOMER, "fulfilled", ("sms",))}),
     "service.request_update", "sms", Context(request_id=REQUEST), False, {"request_closed"}),
    ("a marketing withdrawal leaves service alone",
     subject(ev("withdraw", "marketing", "sms"), ev("object", "marketing", "email")),
     "service.request_update", "sms", Context(request_id=REQUEST), True, set()),
    ("service updates withdrawn on sms", subject(ev("withdraw", "service", "sms")),
     "service.request_update", "sms", Context(request_id=REQUEST), False, {"withdrawn"}),
    ("service ignores the marketing cap", subject(contacts=contacts(10)),
     "service.request_update", "sms", Context(request_id=REQUEST), True, set()),
    # never the same topic twice, on any channel
    ("same topic again by another channel",
     subject(ev("grant", channel="all"), contacts=contacts(1, topic="winter-sale")),
     "marketing", "sms", Context(topic="winter-sale"), False, {"already_contacted"}),
    ("another topic", subject(ev("grant", channel="all"), contacts=contacts(1, topic="a")),
     "marketing", "sms", Context(topic="b"), True, set()),
    # caps
    ("the default cap across channels", subject(ev("grant", channel="all"),
                                                contacts=contacts(4)),
     "marketing", "sms", Context(), False, {"frequency_cap"}),
    ("under the default cap", subject(ev("grant", channel="all"), contacts=contacts(3)),
     "marketing", "sms", Context(), True, set()),
    ("contacts outside the window do not count",
     subject(ev("grant", channel="all"), contacts=contacts(4, days_ago_from=31)),
     "marketing", "sms", Context(), True, set()),
    ("a personal cap lower than the default",
     subject(ev("grant"), contacts=contacts(1),
             preferences={"marketing_cap": {"max": 1, "days": 7}}),
     "marketing", "email", Context(), False, {"frequency_cap"}),
    # every reason, not the first
    ("every reason at once",
     subject(ev("withdraw", "marketing", "sms"), erased=True,
             contact_points={"email": False}, contacts=contacts(4)),
     "marketing", "email", Context(based_on_notes=(SENSITIVE_NOTE,)), False,
     {"erased", "no_contact_point", "sensitive_data", "no_grant", "withdrawn_elsewhere",
      "frequency_cap"}),
]


@pytest.mark.parametrize(("name", "facts", "purpose", "channel", "context", "allowed",
                          "blocking"), CASES, ids=[c[0] for c in CASES])
def test_rule(name, facts, purpose, channel, context, allowed, blocking):
    decision = decide(facts, purpose, channel, NOW, context)
    assert decision.allowed is allowed
    assert codes(decision) == blocking


def test_every_reason_names_where_it_came_from():
    withdrawal = ev("withdraw", "marketing", "sms")
    facts = subject(withdrawal, suppressions={"email": uuid.UUID(int=9)}, contacts=contacts(4))
    decision = decide(facts, "marketing", "email", NOW, Context())
    sources = {r.code: r.source for r in decision.reasons}
    assert sources["withdrawn_elsewhere"] == {"event_id": str(withdrawal.id)}
    assert sources["suppressed"] == {"suppression_id": str(uuid.UUID(int=9))}
    assert sources["frequency_cap"] == {"setting": "policy.default_cap"}
    assert all(r.message for r in decision.reasons)


def test_an_allowed_decision_says_why_and_what_the_message_must_carry():
    grant = ev("grant", "marketing", "sms")
    decision = decide(subject(grant), "marketing", "sms", NOW, Context())
    assert [(r.code, r.blocking, r.source) for r in decision.reasons] == [
        ("granted", False, {"event_id": str(grant.id)})]
    assert decision.obligations == ["identify_the_sender", "include_stop_instructions"]
    assert decide(subject(grant), "marketing", "email", NOW).obligations == []  # not allowed
    service = decide(subject(), "service.request_update", "sms", NOW, Context(REQUEST))
    assert service.obligations == ["no_promotional_content"]


# -- time: quiet hours across time zones and DST, pauses, the cap's end -----------------------

QUIET = {"start": "21:00", "end": "08:00", "timezone": "Europe/London"}


@pytest.mark.parametrize(("now", "zone", "expected"), [
    # winter: London is UTC+0
    (datetime(2026, 11, 23, 22, 30, tzinfo=UTC), "Europe/London",
     datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    (datetime(2026, 11, 24, 6, 0, tzinfo=UTC), "Europe/London",
     datetime(2026, 11, 24, 8, 0, tzinfo=UTC)),
    # summer: London is UTC+1, so 21:30 UTC is 22:30 local and the end is 07:00 UTC
    (datetime(2026, 7, 1, 21, 30, tzinfo=UTC), "Europe/London",
     datetime(2026, 7, 2, 7, 0, tzinfo=UTC)),
    # the night the clocks go forward (29 March 2026, 01:00 UTC): 08:00 BST is 07:00 UTC
    (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), "Europe/London",
     datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
    # the night they go back (25 October 2026): 08:00 GMT is 08:00 UTC
    (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), "Europe/London",
     datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    # New York, UTC-5 in winter
    (datetime(2026, 11, 24, 3, 0, tzinfo=UTC), "America/New_York",
     datetime(2026, 11, 24, 13, 0, tzinfo=UTC)),
])
def test_quiet_hours_defer_to_their_end_in_the_customers_zone(now, zone, expected):
    facts = subject(ev("grant", "marketing", "sms"),
                    preferences={"quiet_hours": QUIET | {"timezone": zone}})
    decision = decide(facts, "marketing", "sms", now)
    assert not decision.allowed
    assert codes(decision) == {"quiet_hours"}
    assert decision.next_allowed_at == expected
    assert decide(facts, "marketing", "sms", expected).allowed


def test_outside_quiet_hours_and_on_post_they_do_not_apply():
    facts = subject(ev("grant", channel="all"), preferences={"quiet_hours": QUIET})
    assert decide(facts, "marketing", "sms", datetime(2026, 11, 23, 12, tzinfo=UTC)).allowed
    assert decide(facts, "marketing", "post", datetime(2026, 11, 23, 23, tzinfo=UTC)).allowed


def test_quiet_hours_hold_back_service_messages_too():
    facts = subject(preferences={"quiet_hours": QUIET})
    decision = decide(facts, "service.request_update", "sms",
                      datetime(2026, 11, 23, 23, tzinfo=UTC), Context(REQUEST))
    assert codes(decision) == {"quiet_hours"}


def test_a_pause_defers_offers_until_it_ends_but_not_service():
    facts = subject(ev("grant", channel="all"),
                    preferences={"pause": {"from": "2026-11-01", "until": "2026-12-15"}})
    decision = decide(facts, "marketing", "email", NOW)
    assert codes(decision) == {"paused"}
    assert decision.next_allowed_at == datetime(2026, 12, 15, 0, 0, tzinfo=UTC)  # London, GMT
    assert decide(facts, "service.request_update", "sms", NOW, Context(REQUEST)).allowed


def test_the_cap_says_when_the_oldest_counted_contact_leaves_the_window():
    facts = subject(ev("grant"), contacts=contacts(4, days_ago_from=2))
    decision = decide(facts, "marketing", "email", NOW)
    oldest = NOW - timedelta(days=5)
    assert decision.next_allowed_at == oldest + timedelta(days=30)


def test_waiting_past_one_reason_into_another_is_followed_through():
    # The pause ends at midnight, inside quiet hours: allowed only at 08:00.
    facts = subject(ev("grant", "marketing", "sms"),
                    preferences={"pause": {"from": "2026-11-01", "until": "2026-12-15"},
                                 "quiet_hours": QUIET})
    decision = decide(facts, "marketing", "sms", NOW)
    assert decision.next_allowed_at == datetime(2026, 12, 15, 8, 0, tzinfo=UTC)


def test_no_next_time_when_waiting_would_not_help():
    facts = subject(contacts=contacts(4))  # capped, and no grant at all
    decision = decide(facts, "marketing", "email", NOW)
    assert codes(decision) == {"no_grant", "frequency_cap"}
    assert decision.next_allowed_at is None


# -- options: the allowed channels, in the customer's order -----------------------------------

def test_options_rank_the_allowed_channels_by_preference():
    facts = subject(ev("grant", "marketing", "email"), ev("grant", "marketing", "sms"),
                    preferences={"preferred_channels": ["sms", "post", "email"]})
    ranked = options(facts, "marketing", NOW)
    assert [d.channel for d in ranked if d.allowed] == ["sms", "post", "email"]
    assert [d.channel for d in ranked if not d.allowed] == ["phone", "push"]
    assert len(ranked) == 5


def test_options_for_a_request_put_its_chosen_channels_first():
    facts = subject(requests={REQUEST: RequestFact(REQUEST, CUSTOMER, "ready",
                                                   ("email", "sms"))},
                    preferences={"preferred_channels": ["sms"]})
    ranked = options(facts, "service.request_update", NOW, Context(REQUEST))
    assert [d.channel for d in ranked if d.allowed] == ["email", "sms"]
