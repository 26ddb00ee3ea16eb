"""The outbox: one delivery per event a subscription wants, written in the change's
transaction, carrying ids and no personal data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.session import Session as FlaskSqlSession
from sqlalchemy import event

from server.changelog import service as changelog
from server.changelog.models import Change
from server.customers import service as customers
from server.webhooks import outbox
from server.webhooks.models import WebhookDelivery
from tests.factories import make_customer, make_note, make_notice, make_request, record_consent
from tests.webhooks.conftest import subscribe


def deliveries(session) -> list[WebhookDelivery]:
    session.close()
    return list(session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.seq)))


def change(entity="customer", op="upsert", store_id=None, reason=None, body=None) -> dict:
    return {"entity": entity, "op": op, "store_id": store_id, "reason": reason,
            "body": body if body is not None or op == "delete" else {"id": "x"}}


STORE = uuid.uuid4()


@pytest.mark.parametrize("row, carried, event", [
    (change("customer"), True, "customer.changed"),
    (change("customer", store_id=STORE), False, "customer.changed"),  # a store's copy
    (change("consent"), True, "consent.changed"),
    (change("consent", store_id=STORE), False, "consent.changed"),
    (change("request", store_id=STORE), True, "request.changed"),
    (change("note", store_id=STORE), True, "note.changed"),
    # as in the feed: a note flagged sensitive is withheld, a deletion for the CRM
    (change("note", store_id=STORE, body={"sensitive": True}), True, "note.deleted"),
    (change("note", "delete", STORE, "deleted"), True, "note.deleted"),
    (change("request", "delete", STORE, "expired"), True, "request.deleted"),
    (change("customer", "delete", None, "erased"), True, "customer.erased"),
    (change("customer", "delete", None, "expired"), True, "customer.deleted"),
    (change("notice"), False, "notice.changed"),
    (change("notice", store_id=STORE), False, "notice.changed"),
])
def test_the_feeds_changes_become_events(row, carried, event):
    assert outbox.carried(row) is carried
    assert outbox.event_type(row) == event
    assert event in outbox.EVENTS or not carried


def test_each_change_the_feed_carries_is_one_delivery_with_ids_only(client, session, world):
    hook = subscribe(client, world)
    tablet = world.tablet_a.actor
    customer = make_customer(session, tablet, email="ada.private@example.com")
    request = make_request(session, tablet, customer)
    note = make_note(session, tablet, customer, body="Wants the tan ones")
    make_notice(session)  # notices are not the CRM's business

    made = deliveries(session)
    assert [(d.event, d.payload["id"]) for d in made] == [
        ("customer.changed", str(customer.id)), ("request.changed", str(request.id)),
        ("note.changed", str(note.id))]
    changes = {c.seq: c for c in session.scalars(sa.select(Change))}
    for item in made:
        assert item.subscription_id == uuid.UUID(hook["id"])
        assert (item.status, item.attempts) == ("pending", 0)
        assert set(item.payload) == {"delivery_id", "event", "entity", "id", "customer_id",
                                     "version", "seq", "occurred_at"}
        assert item.payload["delivery_id"] == str(item.id)
        assert item.payload["customer_id"] == str(customer.id)
        logged = changes[item.seq]
        assert (item.payload["seq"], item.payload["version"]) == (logged.seq, logged.version)
        assert datetime.fromisoformat(item.payload["occurred_at"]) == logged.committed_at
        assert logged.entity == item.payload["entity"] and logged.store_id in (
            None, world.store_a.id)
    text = " ".join(str(d.payload) for d in made)
    # Personal and product text, never a substring of an id (ids are lowercase hex, so a
    # lowercase "ada" could be one: this test once failed on a random UUID that way).
    for personal in ("Ada", "Lovelace", "ada.private", "example.com", "Wants the tan",
                     "Chelsea", "BT-38"):
        assert personal not in text


def test_a_customer_held_by_stores_is_one_event_not_one_per_store(client, session, world):
    subscribe(client, world)
    customer = make_customer(session, world.tablet_a.actor)
    make_request(session, world.tablet_b.actor, customer)  # now held by both stores
    first = len(deliveries(session))
    head = session.scalar(sa.select(sa.func.max(Change.seq)))
    customers.update(session, world.tablet_a.actor, customer.id, {"given_name": "Adele"})
    session.commit()
    logged = session.scalars(sa.select(Change.store_id).where(
        Change.entity == "customer", Change.seq > head)).all()
    assert sorted(map(str, logged)) == sorted(["None", str(world.store_a.id),
                                               str(world.store_b.id)])
    added = deliveries(session)[first:]
    assert [d.event for d in added] == ["customer.changed"]


def test_consent_is_one_event_per_recorded_event(client, session, world):
    subscribe(client, world, events=["consent.changed"])
    customer = make_customer(session, world.tablet_a.actor)
    notice = make_notice(session)
    event_ = record_consent(session, world.tablet_a.actor, customer, notice=notice)
    assert [(d.event, d.payload["id"], d.payload["customer_id"])
            for d in deliveries(session)] == [("consent.changed", str(event_.id),
                                               str(customer.id))]


def test_a_subscription_gets_only_the_events_it_asked_for(client, session, world):
    requests_only = subscribe(client, world, events=["request.changed"])
    notes_only = subscribe(client, world, events=["note.deleted", "customer.erased"])
    everything = subscribe(client, world, events=["*"])
    customer = make_customer(session, world.tablet_a.actor)
    make_request(session, world.tablet_a.actor, customer)
    made = deliveries(session)
    by_hook = {str(d.subscription_id): [] for d in made}
    for item in made:
        by_hook[str(item.subscription_id)].append(item.event)
    assert by_hook == {requests_only["id"]: ["request.changed"],
                       everything["id"]: ["customer.changed", "request.changed"]}
    assert notes_only["id"] not in by_hook


def test_an_inactive_subscription_gets_nothing_new(client, session, world):
    hook = subscribe(client, world)
    make_customer(session, world.tablet_a.actor)
    assert client.delete(f"/api/v1/webhooks/{hook['id']}",
                         headers=world.headers("admin")).status_code == 204
    make_customer(session, world.tablet_a.actor)
    assert len(deliveries(session)) == 1


def test_no_subscription_no_delivery(session, world):
    make_customer(session, world.tablet_a.actor)
    session.close()
    assert deliveries(session) == []
    assert session.scalar(sa.select(sa.func.count()).select_from(Change)) > 0


def test_the_outbox_is_written_in_the_changes_transaction_and_rolls_back_with_it(
        client, session, world):
    """Just before COMMIT (after the log is written), the change and its deliveries are
    both there, in the same transaction; a failure at that point takes both away."""
    subscribe(client, world)
    seen = {}

    def fail_the_commit(session_):
        seen["changes"] = session_.scalar(sa.select(sa.func.count()).select_from(Change))
        seen["deliveries"] = session_.scalar(
            sa.select(sa.func.count()).select_from(WebhookDelivery))
        raise RuntimeError("the commit fails after the log was written")

    event.listen(FlaskSqlSession, "before_commit", fail_the_commit)
    try:
        customers.create(session, world.tablet_a.actor, {"given_name": "Lost",
                                                        "family_name": "Cause"})
        with pytest.raises(RuntimeError):
            session.commit()
    finally:
        event.remove(FlaskSqlSession, "before_commit", fail_the_commit)
    session.rollback()
    assert seen == {"changes": 2, "deliveries": 1}  # for everyone and store A; one event
    assert session.scalar(sa.select(sa.func.count()).select_from(Change)) == 0
    assert deliveries(session) == []
    # The next commit goes through, with its delivery.
    make_customer(session, world.tablet_a.actor)
    assert len(deliveries(session)) == 1


def test_a_rolled_back_change_leaves_no_delivery(client, session, world):
    subscribe(client, world)
    customers.create(session, world.tablet_a.actor, {"given_name": "Never"})
    session.flush()
    session.rollback()
    assert deliveries(session) == []


def test_occurred_at_is_the_commit_time_in_utc(client, session, world):
    subscribe(client, world)
    before = datetime.now(UTC)
    make_customer(session, world.tablet_a.actor)
    [item] = deliveries(session)
    occurred = datetime.fromisoformat(item.payload["occurred_at"])
    assert occurred.utcoffset().total_seconds() == 0
    assert before <= occurred <= datetime.now(UTC)


def test_a_change_logged_by_hand_as_an_erasure_is_a_customer_erased_event(client, session,
                                                                           world):
    subscribe(client, world, events=["customer.erased"])
    customer = make_customer(session, world.tablet_a.actor)
    changelog.record(session, "customer", customer, op="delete", reason="erased")
    session.commit()
    [item] = deliveries(session)
    assert (item.event, item.payload["id"]) == ("customer.erased", str(customer.id))
    assert item.payload["version"] == customer.version + 1
