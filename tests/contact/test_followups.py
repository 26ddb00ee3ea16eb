"""Follow-up tasks: made when a request is ready, claimed by channel systems with a lease,
re-decided at claim time, reported once, and never handed to two workers."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from server.consent.models import ConsentEvent
from server.contact import followups
from server.contact.models import Contact, FollowUp
from server.customer_requests import service as requests
from server.extensions import db
from server.stores import keys
from tests.factories import bearer, make_customer, make_request, record_consent

CLAIM = "/api/v1/follow-ups/claim"


def channel_key(session, channel: str) -> str:
    _, token = keys.issue(session, "channel", f"{channel} sender", channel=channel)
    session.commit()
    return token


@pytest.fixture
def sms(session):
    return bearer(channel_key(session, "sms"))


@pytest.fixture
def email(session):
    return bearer(channel_key(session, "email"))


def ready_request(session, world, channels=("sms",), **customer):
    person = make_customer(session, world.tablet_a.actor,
                           **({"phone": "+447911123456"} | customer))
    request = make_request(session, world.tablet_a.actor, person,
                           notify_channels=list(channels))
    requests.transition(session, world.tablet_a.actor, request.id, "ready", None, "A-117")
    session.commit()
    return person, request


def task_of(session, request) -> FollowUp:
    session.expire_all()
    return session.scalar(sa.select(FollowUp).where(FollowUp.request_id == request.id))


def test_a_ready_request_makes_a_task_for_the_channel_chosen_for_it(client, session, world):
    _, request = ready_request(session, world)
    task = task_of(session, request)
    assert (task.status, task.channel, task.purpose) == ("pending", "sms",
                                                         "service.request_update")
    assert task.trigger == "request_ready"
    assert [r["code"] for r in task.reasons] == ["chosen_for_request"]
    # Ready again later (after a step back) is still one task.
    requests.transition(session, world.tablet_a.actor, request.id, "in_progress", None, None)
    requests.transition(session, world.tablet_a.actor, request.id, "ready", None, None)
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 1


def test_a_ready_request_over_sync_makes_a_task_too(client, session, world):
    from tests.sync.helpers import mutation, push
    person = make_customer(session, world.tablet_a.actor, phone="+447911123456")
    request = make_request(session, world.tablet_a.actor, person, notify_channels=["sms"])
    [result] = push(client, world.tablet_a, [mutation("request", request.id,
                                                      {"status": "ready"}, base_version=1)])
    assert result["status"] == "applied", result
    assert task_of(session, request).channel == "sms"


def test_with_no_allowed_channel_the_task_is_suppressed_with_every_reason(session, world):
    _, request = ready_request(session, world, channels=("email",), email=None)
    task = task_of(session, request)
    assert task.status == "suppressed" and task.channel is None
    codes = {(r["channel"], r["code"]) for r in task.reasons}
    assert ("email", "no_contact_point") in codes
    assert ("sms", "channel_not_chosen") in codes


def test_a_worker_gets_only_its_channel_and_only_that_contact_point(client, session, world,
                                                                    sms, email):
    person, request = ready_request(session, world, email="ada@example.com")
    assert client.post(CLAIM, json={}, headers=email).json["items"] == []
    [item] = client.post(CLAIM, json={"lease_seconds": 60}, headers=sms).json["items"]
    assert item["recipient"] == {"given_name": person.given_name, "address": "+447911123456"}
    assert "ada@example.com" not in str(item)
    assert item["obligations"] == ["no_promotional_content"]
    assert item["request"]["description"] == request.description
    assert item["request"]["store_name"] == world.store_a.name
    # Leased: a second worker of the same channel gets nothing.
    assert client.post(CLAIM, json={}, headers=sms).json["items"] == []


def test_the_policy_is_asked_again_when_claiming(client, session, world, sms, email):
    person, request = ready_request(session, world, channels=("sms", "email"))
    # After the task was made, the customer replied to say: no texts about requests.
    record_consent(session, world.tablet_a.actor, person, "service", "sms", "withdraw")
    assert client.post(CLAIM, json={}, headers=sms).json["items"] == []
    [item] = client.post(CLAIM, json={}, headers=email).json["items"]  # re-routed to email
    assert item["channel"] == "email"
    task = task_of(session, request)
    assert task.channel == "email" and task.status == "claimed"


def claim_one(client, headers) -> dict:
    [item] = client.post(CLAIM, json={}, headers=headers).json["items"]
    return item


def report(client, headers, item, outcome):
    return client.post(f"/api/v1/follow-ups/{item['id']}/outcome",
                       json={"claim_id": item["claim_id"], "outcome": outcome}, headers=headers)


def test_a_sent_report_logs_one_contact_however_often_it_is_retried(client, session, world,
                                                                    sms):
    _, request = ready_request(session, world)
    item = claim_one(client, sms)
    first = report(client, sms, item, "sent")
    again = report(client, sms, item, "sent")
    assert first.status_code == again.status_code == 200
    assert first.json == again.json
    assert first.json["status"] == "sent"
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1
    contradicting = report(client, sms, item, "failed")
    assert contradicting.status_code == 409


def test_stop_withdraws_the_purpose_on_that_channel(client, session, world, sms):
    person, request = ready_request(session, world)
    item = claim_one(client, sms)
    assert report(client, sms, item, "stop").status_code == 200
    [event] = session.scalars(sa.select(ConsentEvent).where(
        ConsentEvent.customer_id == person.id)).all()
    assert (event.purpose, event.channel, event.action, event.method) == (
        "service", "sms", "withdraw", "reply_stop")
    decision = client.get(f"/api/v1/customers/{person.id}/contact-decision",
                          query_string={"purpose": "service.request_update", "channel": "sms",
                                        "request_id": str(request.id)},
                          headers=world.tablet_a.headers).json
    assert decision["allowed"] is False
    assert {"withdrawn"} <= {r["code"] for r in decision["reasons"]}


def test_a_failure_is_retried_later_and_gives_up_after_the_limit(client, session, world, sms):
    _, request = ready_request(session, world)
    item = claim_one(client, sms)
    assert report(client, sms, item, "failed").json["status"] == "pending"
    task = task_of(session, request)
    assert task.not_before > task.updated_at  # backed off: not claimable at once
    assert client.post(CLAIM, json={}, headers=sms).json["items"] == []
    for attempt in range(2, followups.MAX_ATTEMPTS + 1):
        session.execute(sa.update(FollowUp).values(not_before=sa.func.current_timestamp()))
        session.commit()
        item = claim_one(client, sms)
        status = report(client, sms, item, "failed").json["status"]
        assert status == ("failed" if attempt == followups.MAX_ATTEMPTS else "pending")


def test_a_bounce_suppresses_the_address(client, session, world, email):
    person, request = ready_request(session, world, channels=("email",),
                                    email="gone@example.com")
    item = claim_one(client, email)
    assert report(client, email, item, "bounced").json["status"] == "failed"
    decision = client.get(f"/api/v1/customers/{person.id}/contact-decision",
                          query_string={"purpose": "service.request_update",
                                        "channel": "email", "request_id": str(request.id)},
                          headers=world.tablet_a.headers).json
    assert "suppressed" in {r["code"] for r in decision["reasons"]}


def test_a_lapsed_lease_goes_to_the_next_worker_and_the_old_claim_is_refused(client, session,
                                                                            world, sms):
    ready_request(session, world)
    first = claim_one(client, sms)
    session.execute(sa.update(FollowUp).values(lease_until=sa.func.current_timestamp()))
    session.commit()
    second = claim_one(client, sms)
    assert second["id"] == first["id"] and second["claim_id"] != first["claim_id"]
    assert report(client, sms, first, "sent").status_code == 409
    assert report(client, sms, second, "sent").status_code == 200


def test_a_closed_request_cancels_its_pending_task(session, world):
    _, request = ready_request(session, world)
    requests.transition(session, world.tablet_a.actor, request.id, "fulfilled", "collected",
                        None)
    session.commit()
    assert task_of(session, request).status == "cancelled"


def test_head_office_asks_for_a_follow_up_and_lists_them(client, session, world):
    person, request = ready_request(session, world)
    body = {"customer_id": str(person.id), "purpose": "marketing.local_offers",
            "topic": "winter-sale"}
    created = client.post("/api/v1/follow-ups", json=body, headers=world.headers("crm"))
    assert created.status_code == 201
    assert created.json["status"] == "suppressed"  # no grant for offers anywhere
    assert "no_grant" in {r["code"] for r in created.json["reasons"]}
    listed = client.get("/api/v1/follow-ups", query_string={"status": "pending"},
                        headers=world.headers("admin")).json["items"]
    assert [t["request_id"] for t in listed] == [str(request.id)]
    unknown = client.post("/api/v1/follow-ups", json=body | {"customer_id": str(uuid.uuid4())},
                          headers=world.headers("crm"))
    assert unknown.status_code == 422


def test_two_workers_claiming_at_once_never_get_the_same_task(app, session, world):
    tasks = 40
    for _ in range(tasks):
        ready_request(session, world)
    token = channel_key(session, "sms")
    claimed: list[list[uuid.UUID]] = [[], []]
    errors: list[BaseException] = []

    def work(mine: list[uuid.UUID]) -> None:
        try:
            with app.app_context():
                actor = keys.authenticate(db.session, token)
                for _ in range(200):  # bounded
                    items = followups.claim(db.session, actor, 3, 300)
                    db.session.commit()
                    if not items:
                        return
                    mine.extend(item["id"] for item in items)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    every = claimed[0] + claimed[1]
    assert len(every) == len(set(every)) == tasks


def test_offers_sent_count_toward_the_cap_and_a_topic_goes_out_once(client, session, world,
                                                                    sms):
    from tests.factories import make_notice
    person = make_customer(session, world.tablet_a.actor, phone="+447911123456")
    notice = make_notice(session, purposes=("marketing",), channels=("sms",))
    record_consent(session, world.tablet_a.actor, person, "marketing.local_offers", "sms",
                   notice=notice)

    def ask(topic):
        return client.post("/api/v1/follow-ups", headers=world.headers("crm"), json={
            "customer_id": str(person.id), "purpose": "marketing.local_offers",
            "topic": topic}).json

    for n in range(4):
        assert ask(f"offer-{n}")["status"] == "pending"
        item = claim_one(client, sms)
        assert item["obligations"] == ["identify_the_sender", "include_stop_instructions"]
        assert report(client, sms, item, "sent").status_code == 200
    fifth = ask("offer-4")
    assert fifth["status"] == "pending"  # deferred until the oldest contact leaves the window
    assert "frequency_cap" in {r["code"] for r in fifth["reasons"]}
    assert fifth["not_before"] > fifth["created_at"]
    assert client.post(CLAIM, json={}, headers=sms).json["items"] == []
    # The same topic again is the task already made, not a second message.
    assert ask("offer-0")["status"] == "sent"


def test_a_landline_is_no_contact_point_for_texts(client, session, world):
    person = make_customer(session, world.tablet_a.actor, phone="+442079460000")
    request = make_request(session, world.tablet_a.actor, person,
                           notify_channels=["sms", "phone"])
    query = {"purpose": "service.request_update", "request_id": str(request.id)}
    options = client.get(f"/api/v1/customers/{person.id}/contact-options", query_string=query,
                         headers=world.tablet_a.headers).json
    assert options["best"] == "phone"
    sms = next(d for d in options["channels"] if d["channel"] == "sms")
    assert "no_contact_point" in {r["code"] for r in sms["reasons"]}
