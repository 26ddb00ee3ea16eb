"""The worker against a real receiver on 127.0.0.1: retries, signatures, leases, dead
letters, replays, and two workers at once."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
import uuid

import pytest
import sqlalchemy as sa

from server.customers import service as customers
from server.extensions import db
from server.webhooks import delivery, signing
from server.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.conftest import is_postgres
from tests.factories import make_customer, make_request
from tests.webhooks.conftest import deliver_until_settled, statuses, subscribe


def many_changes(session, world, count: int) -> None:
    """`count` new customers in one commit: `count` events."""
    for n in range(count):
        customers.create(session, world.tablet_a.actor, {"given_name": f"Guest {n}"})
    session.commit()


def delivery_ids(session) -> set[str]:
    session.close()
    return {str(i) for i in session.scalars(sa.select(WebhookDelivery.id))}


def attempt_log(session) -> list[tuple[int, int | None, str | None]]:
    session.close()
    return [(a.number, a.status_code, a.error) for a in session.scalars(
        sa.select(WebhookAttempt).order_by(WebhookAttempt.at, WebhookAttempt.number))]


def test_a_receiver_that_fails_then_recovers_gets_every_event_once_and_signed(
        app, client, session, world, receiver, settings):
    receiver.script = [500, 500, "hang"]  # an outage: two errors, then a timeout
    hook = subscribe(client, world, url=receiver.url)
    customer = make_customer(session, world.tablet_a.actor)
    make_request(session, world.tablet_a.actor, customer)
    many_changes(session, world, 3)
    expected = delivery_ids(session)
    assert len(expected) == 5

    totals = deliver_until_settled(app, settings)

    assert receiver.accepted() == dict.fromkeys(expected, 1)
    assert statuses(session) == {"delivered": 5}
    assert totals["delivered"] == 5 and totals["pending"] == 3  # three failed tries
    assert sorted(error for _, _, error in attempt_log(session) if error) == [
        "http_500", "http_500", "timeout"]
    for item in receiver.received:
        assert signing.verify(hook["secret"], item.timestamp, item.body, item.signature)
        assert item.payload["delivery_id"] == item.delivery_id
        assert item.payload["event"] == item.event
        assert not signing.verify(hook["secret"], item.timestamp, item.body + b" ",
                                  item.signature)
        assert not signing.verify("another secret", item.timestamp, item.body, item.signature)


def test_deliveries_post_json_with_the_documented_headers(app, client, session, world,
                                                          receiver, settings):
    hook = subscribe(client, world, url=receiver.url, events=["customer.changed"])
    customer = make_customer(session, world.tablet_a.actor)
    deliver_until_settled(app, settings)
    [item] = receiver.received
    assert item.payload == {
        "delivery_id": item.delivery_id, "event": "customer.changed", "entity": "customer",
        "id": str(customer.id), "customer_id": str(customer.id), "version": 1,
        "seq": item.payload["seq"], "occurred_at": item.payload["occurred_at"]}
    assert abs(int(item.timestamp) - time.time()) < 60
    expected = signing.signature(signing.secret(app.config["SECRET_KEY"],
                                                uuid.UUID(hook["id"])),
                                 int(item.timestamp), item.body)
    assert item.signature == expected and item.signature.startswith("sha256=")


def test_after_the_last_attempt_a_delivery_is_dead(app, client, session, world, receiver,
                                                   settings):
    receiver.script = [500] * 50
    hook = subscribe(client, world, url=receiver.url, max_attempts=3)
    many_changes(session, world, 2)

    deliver_until_settled(app, settings)

    assert statuses(session) == {"dead": 2}
    assert set(receiver.requests().values()) == {3}
    assert [number for number, _, _ in attempt_log(session)].count(3) == 2
    dead = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                      query_string={"status": "dead"}, headers=world.headers("admin")).json
    assert len(dead["items"]) == 2
    for item in dead["items"]:
        assert (item["attempts"], item["last_status_code"], item["last_error"]) == \
            (3, 500, "http_500")
        assert [(a["number"], a["status_code"]) for a in item["log"]] == \
            [(1, 500), (2, 500), (3, 500)]


def test_a_replay_sends_the_dead_again_with_the_same_delivery_ids(app, client, session, world,
                                                                  receiver, settings):
    receiver.script = [500] * 4
    hook = subscribe(client, world, url=receiver.url, max_attempts=2)
    many_changes(session, world, 2)
    deliver_until_settled(app, settings)
    assert statuses(session) == {"dead": 2}
    assert receiver.accepted() == {}

    replayed = client.post(f"/api/v1/webhooks/{hook['id']}/replay", json={"dead_only": True},
                           headers=world.headers("admin"))
    assert replayed.status_code == 200 and replayed.json == {"requeued": 2}
    deliver_until_settled(app, settings)

    assert statuses(session) == {"delivered": 2}
    assert receiver.accepted() == dict.fromkeys(delivery_ids(session), 1)


def test_a_replay_from_a_seq_sends_those_changes_again(app, client, session, world, receiver,
                                                       settings):
    hook = subscribe(client, world, url=receiver.url)
    many_changes(session, world, 1)
    many_changes(session, world, 1)
    deliver_until_settled(app, settings)
    session.close()
    first, second = session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.seq))

    replayed = client.post(f"/api/v1/webhooks/{hook['id']}/replay",
                           json={"from_seq": second.seq}, headers=world.headers("admin"))
    assert replayed.json == {"requeued": 1}
    deliver_until_settled(app, settings)

    assert receiver.requests() == {str(first.id): 1, str(second.id): 2}
    assert statuses(session) == {"delivered": 2}


def test_two_workers_at_once_never_send_the_same_delivery_twice(app, client, session, world,
                                                                receiver, settings):
    receiver.delay_seconds = 0.01  # each POST takes a moment: the workers overlap
    subscribe(client, world, url=receiver.url)
    many_changes(session, world, 40)
    expected = delivery_ids(session)
    small_batches = dataclasses.replace(settings, batch=3)
    errors: list[BaseException] = []
    done: list = []

    def work():
        try:
            done.append(deliver_until_settled(app, small_batches, seconds=40))
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert receiver.requests() == dict.fromkeys(expected, 1)
    assert statuses(session) == {"delivered": 40}
    assert all(results["delivered"] for results in done), done  # both took a share


def test_a_worker_whose_lease_ran_out_cannot_record_its_outcome(app, client, session, world,
                                                                settings):
    subscribe(client, world)
    many_changes(session, world, 1)
    session.close()
    short = dataclasses.replace(settings, lease_seconds=0.2)
    [slow] = delivery.claim(session, "worker-a", short)
    session.commit()
    time.sleep(0.3)
    [taken_over] = delivery.claim(session, "worker-b", settings)
    session.commit()
    assert (taken_over.id, taken_over.attempt) == (slow.id, 2)

    late = delivery.finish(session, "worker-a", slow, delivery.Outcome(200, None, 5), settings)
    on_time = delivery.finish(session, "worker-b", taken_over,
                              delivery.Outcome(200, None, 5), settings)

    assert (late, on_time) == ("lost", "delivered")
    session.close()
    row = session.get(WebhookDelivery, slow.id)
    assert (row.status, row.claimed_by, row.attempts) == ("delivered", "worker-b", 2)
    assert len(attempt_log(session)) == 2  # both POSTs are in the log


def test_a_lease_that_ran_out_on_the_last_attempt_is_dead(app, client, session, world,
                                                          settings):
    subscribe(client, world, max_attempts=1)
    many_changes(session, world, 1)
    session.close()
    [lost] = delivery.claim(session, "crashed", dataclasses.replace(settings, lease_seconds=0.1))
    session.commit()
    time.sleep(0.2)
    assert delivery.claim(session, "next", settings) == []
    session.commit()
    row = session.get(WebhookDelivery, lost.id)
    assert (row.status, row.last_error) == ("dead", "lease_expired")


def test_no_post_is_started_without_time_left_on_the_lease(app, client, session, world,
                                                          receiver, settings):
    subscribe(client, world, url=receiver.url)
    many_changes(session, world, 1)
    session.close()
    tight = dataclasses.replace(settings, lease_seconds=1.0, timeout=0.5)
    with app.app_context():
        results = delivery.deliver_once(db.session, tight, "tight")
    assert results == {"released": 1}
    assert receiver.received == []
    session.close()
    row = session.scalars(sa.select(WebhookDelivery)).one()
    assert (row.status, row.attempts, row.lease_until) == ("pending", 0, None)


def test_an_unreachable_receiver_is_retried_and_logged(app, client, session, world, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subscribe(client, world, url=f"http://127.0.0.1:{port}/hooks", max_attempts=2)
    many_changes(session, world, 1)
    deliver_until_settled(app, settings)
    assert statuses(session) == {"dead": 1}
    assert attempt_log(session) == [(1, None, "connection_error"),
                                    (2, None, "connection_error")]


def test_redirects_are_not_followed(app, client, session, world, receiver, settings):
    receiver.script = [302]
    subscribe(client, world, url=receiver.url, max_attempts=1)
    many_changes(session, world, 1)
    deliver_until_settled(app, settings)
    assert statuses(session) == {"dead": 1}
    assert attempt_log(session) == [(1, 302, "http_302")]


def test_an_inactive_subscriptions_deliveries_are_not_sent(app, client, session, world,
                                                           receiver, settings):
    hook = subscribe(client, world, url=receiver.url)
    many_changes(session, world, 2)
    client.delete(f"/api/v1/webhooks/{hook['id']}", headers=world.headers("admin"))
    with app.app_context():
        assert delivery.deliver_once(db.session, settings, "w") == {}
    assert receiver.received == []
    assert statuses(session) == {"pending": 2}


def test_backoff_doubles_with_jitter_up_to_the_ceiling(settings):
    base = dataclasses.replace(settings, backoff_seconds=60, backoff_max_seconds=600)
    for attempt, ceiling in [(1, 60), (2, 120), (3, 240), (4, 480), (5, 600), (12, 600)]:
        delays = {delivery.backoff(attempt, base).total_seconds() for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


@pytest.mark.postgres_only
def test_a_claim_skips_deliveries_another_worker_is_claiming(app, client, session, world,
                                                             settings, database_url):
    """SKIP LOCKED: a second worker neither waits for the first one's claim to commit nor
    takes any of the deliveries it is claiming."""
    if not is_postgres(database_url):
        pytest.skip("SQLite serialises writers: a second claim waits instead")
    subscribe(client, world)
    many_changes(session, world, 6)
    session.close()
    first = delivery.claim(session, "first", dataclasses.replace(settings, batch=3))
    other: list = []
    with app.app_context():
        db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
        other = delivery.claim(db.session, "second", settings)
        db.session.commit()
    session.commit()
    assert len(first) == 3 and len(other) == 3
    assert not {c.id for c in first} & {c.id for c in other}
