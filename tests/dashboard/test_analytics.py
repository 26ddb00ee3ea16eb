"""The dashboard's figures: exact counts, rates and buckets for known data, the store
scope of a store manager, the unmet-demand rule and the time window."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from server.consent.models import ConsentEvent
from server.contact import followups
from server.contact.models import FollowUp
from server.customer_requests import service as requests
from server.customer_requests.models import CustomerRequest
from server.dashboard import analytics
from server.dashboard.analytics import ConsentWeek, Demand, StoreWeek, Tally
from server.stores import keys
from tests.factories import make_customer, make_notice, make_request, record_consent

MONDAY = date(2026, 1, 5)
SINCE, UNTIL = MONDAY, date(2026, 2, 1)  # four whole weeks
WINDOW = {"since": SINCE, "until": UNTIL}


def at(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def backdate(session, model, record_id, **columns) -> None:
    # The services stamp server time; history is written straight to the table.
    session.execute(sa.update(model.__table__).where(model.id == record_id).values(**columns))
    session.commit()


def ask(session, world, created: datetime, store: str = "a", customer=None,
        status: str | None = None, reason: str | None = None, closed: datetime | None = None,
        **fields) -> CustomerRequest:
    """A request captured on store A's or B's tablet, moved through the lifecycle."""
    actor = (world.tablet_a if store == "a" else world.tablet_b).actor
    customer = customer or make_customer(session, actor)
    record = make_request(session, actor, customer, **fields)
    if status:
        requests.transition(session, actor, record.id, status, reason, None)
        session.commit()
    stamps = {"created_at": created} | ({"closed_at": closed} if closed else {})
    backdate(session, CustomerRequest, record.id, **stamps)
    return record


# -- requests per store per week ---------------------------------------------------------

WEEKLY = [  # (store, captured at): the window's edges, both ways
    ("a", at(MONDAY, 0, 0)), ("a", at(date(2026, 1, 11), 23, 59)),
    ("a", at(date(2026, 1, 12), 0, 0)), ("a", at(date(2026, 1, 4), 23, 59)),
    ("a", at(UNTIL, 23, 59)), ("a", at(date(2026, 2, 2), 0, 0)),
    ("b", at(date(2026, 1, 6))), ("b", at(date(2026, 1, 7))),
]


@pytest.mark.parametrize(("scope", "expected"), [
    ("all", [(MONDAY, "A-01", 2), (MONDAY, "B-01", 2), (date(2026, 1, 12), "A-01", 1),
             (date(2026, 1, 26), "A-01", 1)]),
    ("a", [(MONDAY, "A-01", 2), (date(2026, 1, 12), "A-01", 1), (date(2026, 1, 26), "A-01", 1)]),
    ("b", [(MONDAY, "B-01", 2)]),
    ("none", []),
])
def test_requests_are_counted_per_store_and_monday_week(session, world, scope, expected):
    for store, created in WEEKLY:
        ask(session, world, created, store)
    stores = {"all": None, "a": [world.store_a.id], "b": [world.store_b.id], "none": []}
    rows = analytics.requests_per_week(session, stores[scope], **WINDOW)
    assert [(r.week, r.store_code, r.requests) for r in rows] == expected
    assert all(isinstance(r, StoreWeek) and r.store_name.startswith("Store") for r in rows)


def test_the_default_window_is_the_last_twelve_weeks():
    since, until = analytics.window(None, date(2026, 3, 4))
    assert (since, until) == (date(2025, 12, 15), date(2026, 3, 4))
    assert len(analytics.weeks(since, until)) == 12
    assert analytics.weeks(date(2026, 1, 7), date(2026, 1, 19)) == [
        MONDAY, date(2026, 1, 12), date(2026, 1, 19)]


# -- fulfilment --------------------------------------------------------------------------

CLOSED = [  # (store, type, status, reason, created, closed)
    ("a", "back_in_stock", "fulfilled", "collected", at(date(2025, 12, 30)), at(date(2026, 1, 7))),
    ("a", "back_in_stock", "fulfilled", "collected", at(MONDAY), at(date(2026, 1, 8), 0)),
    ("b", "back_in_stock", "fulfilled", "delivered", at(date(2026, 1, 6)), at(date(2026, 1, 10))),
    ("a", "back_in_stock", "cancelled", "not_available", at(MONDAY), at(date(2026, 1, 8))),
    ("a", "back_in_stock", "cancelled", "duplicate", at(MONDAY), at(date(2026, 1, 8))),
    ("a", "back_in_stock", "fulfilled", "collected", at(MONDAY), at(date(2026, 2, 3))),
    ("b", "special_order", "fulfilled", "collected", at(date(2026, 1, 6)), at(date(2026, 1, 7))),
    ("b", "special_order", "fulfilled", "collected", at(date(2026, 1, 6)), at(date(2026, 1, 9))),
    ("b", "special_order", "expired", "past_due", at(date(2026, 1, 6)), at(date(2026, 1, 20))),
    ("a", "hold", None, None, at(MONDAY), None),
]


@pytest.fixture
def closed_requests(session, world):
    for store, kind, status, reason, created, closed in CLOSED:
        ask(session, world, created, store, type=kind, status=status, reason=reason,
            closed=closed)


@pytest.mark.parametrize(("by", "expected"), [
    ("type", [("back_in_stock", 4, 3, 0.75, 4.0, 4.83),
              ("special_order", 3, 2, 2 / 3, 2.0, 2.0)]),
    ("store", [("A-01", 3, 2, 2 / 3, 5.0, 5.25), ("B-01", 4, 3, 0.75, 3.0, 2.67)]),
])
def test_fulfilment_rate_and_days_to_fulfil(session, closed_requests, by, expected):
    function = {"type": analytics.fulfilment_by_type, "store": analytics.fulfilment_by_store}
    rows = function[by](session, None, **WINDOW)
    assert [(r.key, r.closed, r.fulfilled) for r in rows] == [e[:3] for e in expected]
    for row, (*_, rate, median, mean) in zip(rows, expected, strict=True):
        assert row.rate == pytest.approx(rate)
        assert (row.median_days, row.mean_days) == (median, pytest.approx(mean, abs=0.01))
    assert rows[0].label == ("back in stock" if by == "type" else "Store A")


def test_a_store_managers_fulfilment_leaves_other_stores_out(session, world, closed_requests):
    rows = analytics.fulfilment_by_type(session, [world.store_b.id], **WINDOW)
    assert [(r.key, r.closed, r.fulfilled, r.median_days) for r in rows] == [
        ("back_in_stock", 1, 1, 4.0), ("special_order", 3, 2, 2.0)]


# -- ageing of open requests -------------------------------------------------------------

AS_OF = at(date(2026, 3, 2))
AGES = [  # (store, status, whole days old, bucket or None: not counted)
    ("a", None, 0, "0–7"), ("a", "in_progress", 7, "0–7"), ("a", "ready", 8, "8–14"),
    ("a", None, 14, "8–14"), ("a", None, 15, "15–30"), ("a", None, 30, "15–30"),
    ("a", None, 31, "31–60"), ("a", None, 60, "31–60"), ("a", None, 61, ">60"),
    ("a", None, 400, ">60"), ("b", None, 3, "0–7"),
    ("a", "fulfilled", 20, None), ("a", "cancelled", 3, None), ("a", None, -1, None),
]


def test_open_requests_age_into_buckets_by_store(session, world):
    for store, status, days, _ in AGES:
        reason = {"fulfilled": "collected", "cancelled": "customer_cancelled"}.get(status)
        ask(session, world, AS_OF - timedelta(days=days, hours=1), store, status=status,
            reason=reason)
    expected = Counter((store, bucket) for store, _, _, bucket in AGES if bucket)
    rows = analytics.open_request_ageing(session, as_of=AS_OF)
    assert [r.store_code for r in rows] == ["A-01", "B-01"]
    for row in rows:
        store = row.store_code[0].lower()
        assert row.counts == {b: expected[(store, b)] for b in analytics.AGE_BUCKETS}
    assert rows[0].total == 10
    [only_b] = analytics.open_request_ageing(session, [world.store_b.id], as_of=AS_OF)
    assert (only_b.store_code, only_b.total) == ("B-01", 1)


# -- unmet demand ------------------------------------------------------------------------

TODAY = date(2026, 3, 2)
DEMAND_CASES = [  # (type, status, reason, due in days from TODAY, unmet?)
    ("back_in_stock", "cancelled", "not_available", None, True),
    ("special_order", "cancelled", "discontinued", None, True),
    ("hold", "cancelled", "not_available", None, True),
    ("back_in_stock", "cancelled", "customer_cancelled", None, False),
    ("back_in_stock", "cancelled", "duplicate", None, False),
    ("back_in_stock", "expired", "past_due", None, True),
    ("back_in_stock", "expired", "no_response", None, False),
    ("alteration", "expired", "past_due", None, False),
    ("back_in_stock", None, None, -1, True),
    ("special_order", "in_progress", None, -10, True),
    ("back_in_stock", None, None, 0, False),
    ("back_in_stock", None, None, 5, False),
    ("back_in_stock", "ready", None, -1, False),
    ("back_in_stock", "fulfilled", "collected", -1, False),
    ("back_in_stock", None, None, None, False),
    ("call_back", None, None, -3, False),
]


def test_unmet_demand_is_what_we_could_not_get_not_what_customers_dropped(session, world):
    for n, (kind, status, reason, due, _) in enumerate(DEMAND_CASES):
        due_date = TODAY + timedelta(days=due) if due is not None else None
        ask(session, world, at(date(2026, 1, 10)), type=kind, status=status, reason=reason,
            due_date=due_date, sku=f"CASE-{n:02}")
    rows = analytics.unmet_demand(session, "sku", since=SINCE, until=TODAY, top=50,
                                  today=TODAY)
    unmet = {f"CASE-{n:02}" for n, case in enumerate(DEMAND_CASES) if case[-1]}
    assert {r.value for r in rows} == unmet
    assert all((r.asks, r.customers, r.units) == (1, 1, 1) for r in rows)


def test_repeat_asks_raise_the_weight(session, world):
    regular = make_customer(session, world.tablet_a.actor)
    gone = {"status": "cancelled", "reason": "not_available"}
    for store, sku in (("a", "BT-38"), ("b", " bt-38 "), ("a", "Bt-38")):
        ask(session, world, at(MONDAY), store, regular, sku=sku, **gone)
    for sku in ("SC-1", "SC-1", "HAT-2", "HAT-2"):
        ask(session, world, at(MONDAY), "b", sku=sku, quantity=2, **gone)
    ask(session, world, at(MONDAY), "a", sku="ZZ-9", **gone)
    rows = analytics.unmet_demand(session, "sku", **WINDOW, top=3)
    assert rows == [Demand("BT-38", 3, 1, 3), Demand("HAT-2", 2, 2, 4),
                    Demand("SC-1", 2, 2, 4)]
    in_a = analytics.unmet_demand(session, "sku", [world.store_a.id], **WINDOW)
    assert in_a == [Demand("BT-38", 2, 1, 2), Demand("ZZ-9", 1, 1, 1)]


def test_unmet_demand_by_size_colour_and_category(session, world):
    gone = {"status": "cancelled", "reason": "discontinued"}
    for size, colour, category in (("38", "Tan", "shoes"), ("38", "tan ", "Shoes"),
                                   ("M", "", None), (None, "navy", "coats")):
        ask(session, world, at(MONDAY), size=size, colour=colour, category=category, **gone)
    ask(session, world, at(date(2025, 12, 1)), size="XL", **gone)  # asked before the window
    found = analytics.unmet_demand_all(session, **WINDOW)
    assert {d: [(r.value, r.asks) for r in rows] for d, rows in found.items()} == {
        "sku": [("BT-38", 4)], "size": [("38", 2), ("m", 1)],
        "colour": [("tan", 2), ("navy", 1)], "category": [("shoes", 2), ("coats", 1)]}


def test_unmet_demand_is_counted_by_a_known_dimension_only(session):
    with pytest.raises(ValueError):
        analytics.unmet_demand(session, "customer_id")


# -- consent health ----------------------------------------------------------------------

def test_consent_events_are_counted_per_week_purpose_channel_and_action(session, world):
    notice = make_notice(session, purposes=("marketing", "research"))
    crm = keys.authenticate(session, world.tokens["crm"])
    ada = make_customer(session, world.tablet_a.actor)
    bea = make_customer(session, world.tablet_b.actor)
    second = MONDAY + timedelta(weeks=1)
    for actor, person, purpose, channel, action, day in (
            (world.tablet_a.actor, ada, "marketing", "email", "grant", MONDAY),
            (world.tablet_a.actor, ada, "research", "email", "deny", MONDAY),
            (world.tablet_b.actor, bea, "marketing", "sms", "grant", MONDAY),
            (world.tablet_a.actor, ada, "marketing", "email", "withdraw", second),
            (crm, bea, "marketing", "all", "withdraw", second),
            (world.tablet_a.actor, ada, "marketing", "post", "object", UNTIL + timedelta(1))):
        event = record_consent(session, actor, person, purpose, channel, action,
                               notice if action == "grant" else None)
        backdate(session, ConsentEvent, event.id, received_at=at(day))
    everyone = analytics.consent_activity(session, **WINDOW)
    assert everyone == [ConsentWeek(MONDAY, "marketing", "email", "grant", 1),
                        ConsentWeek(MONDAY, "marketing", "sms", "grant", 1),
                        ConsentWeek(MONDAY, "research", "email", "deny", 1),
                        ConsentWeek(second, "marketing", "all", "withdraw", 1),
                        ConsentWeek(second, "marketing", "email", "withdraw", 1)]
    store_a = analytics.consent_activity(session, [world.store_a.id], **WINDOW)
    assert [(e.week, e.channel, e.action) for e in store_a] == [
        (MONDAY, "email", "grant"), (MONDAY, "email", "deny"), (second, "email", "withdraw")]


# -- follow-ups --------------------------------------------------------------------------

def ready(session, world, store: str, channels: tuple[str, ...], **customer):
    actor = (world.tablet_a if store == "a" else world.tablet_b).actor
    person = make_customer(session, actor, **({"phone": "+447911123456"} | customer))
    record = make_request(session, actor, person, notify_channels=list(channels))
    requests.transition(session, actor, record.id, "ready", None, None)
    session.commit()
    return record


def send_all_sms(session) -> None:
    _, token = keys.issue(session, "channel", "sms sender", channel="sms")
    worker = keys.authenticate(session, token)
    for item in followups.claim(session, worker, limit=1, lease_seconds=60):
        followups.report(session, worker, item["id"], item["claim_id"], "sent")
    session.commit()


def test_follow_ups_sent_and_suppressed_by_reason(session, world):
    ready(session, world, "a", ("sms",))
    send_all_sms(session)
    ready(session, world, "a", ("email",), email=None)
    ready(session, world, "b", ("email",), email=None)
    ready(session, world, "b", ("sms",))
    assert analytics.follow_up_statuses(session) == [
        Tally("suppressed", 2), Tally("pending", 1), Tally("sent", 1)]
    assert analytics.follow_up_statuses(session, [world.store_a.id]) == [
        Tally("sent", 1), Tally("suppressed", 1)]
    reasons = analytics.suppression_reasons(session)
    held = session.scalars(sa.select(FollowUp).where(FollowUp.status == "suppressed"))
    oracle = Counter(code for task in held
                     for code in {r["code"] for r in task.reasons if r["blocking"]})
    assert {r.key: r.tasks for r in reasons} == oracle
    assert Tally("no_contact_point", 2) in reasons
    assert "channel_not_chosen" in oracle  # the sms side: blocking too, counted once a task
    in_a = analytics.suppression_reasons(session, [world.store_a.id])
    assert {r.key: r.tasks for r in in_a} == {code: n / 2 for code, n in oracle.items()}


def test_follow_ups_outside_the_window_are_left_out(session, world):
    ready(session, world, "a", ("email",), email=None)
    assert analytics.follow_up_statuses(session, **WINDOW) == []
    assert analytics.suppression_reasons(session, **WINDOW) == []


# -- nothing yet -------------------------------------------------------------------------

@pytest.mark.parametrize("figure", [
    analytics.requests_per_week, analytics.fulfilment_by_type, analytics.fulfilment_by_store,
    analytics.open_request_ageing, analytics.consent_activity, analytics.follow_up_statuses,
    analytics.suppression_reasons, lambda s: analytics.unmet_demand(s, "sku")])
def test_an_empty_database_gives_empty_figures(session, figure):
    assert figure(session) == []
