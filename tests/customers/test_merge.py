"""Merging two records of the same person: the captures move to the survivor, refusals
carry over (grants do not), every copy learns of it as an explicit event (tablets, the
CRM feed, webhooks), and an offline tablet's later captures land on the survivor."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from server.consent import service as consent
from server.core.errors import Unavailable
from server.customer_requests import service as requests_service
from server.customer_requests.models import CustomerRequest
from server.customers import merge as merging
from server.customers.models import Customer
from server.extensions import db
from server.privacy import privacy_requests
from server.privacy.models import PrivacyRequest
from server.webhooks.models import WebhookDelivery
from tests.conftest import is_postgres
from tests.factories import (
    ADMIN,
    make_customer,
    make_note,
    make_notice,
    make_request,
    record_consent,
)
from tests.feed.test_feed import read_all
from tests.sync.helpers import mutation, new_request, pull_all, push


def merge(client, world, duplicate_id, into, scope="admin"):
    return client.post(f"/api/v1/customers/{duplicate_id}/merge", json={"into": str(into)},
                       headers=world.headers(scope))


@pytest.fixture
def pair(session, world):
    """Ada captured twice: at store A with a phone, a request and a note; at store B
    with an email."""
    dup = make_customer(session, world.tablet_a.actor, given_name="Ada", phone="+447911123456")
    request = make_request(session, world.tablet_a.actor, dup, notify_channels=["sms"])
    note = make_note(session, world.tablet_a.actor, dup, "Wants the wider fit")
    survivor = make_customer(session, world.tablet_b.actor, given_name="Ada",
                             family_name="Lovelace", email="ada@example.com")
    return dup, survivor, request, note


def test_the_captures_move_and_every_copy_hears_of_it(client, session, world, pair):
    dup, survivor, request, note = pair
    _, feed_cursor = read_all(client, world)
    _, a_cursor = pull_all(client, world.tablet_a)
    response = merge(client, world, dup.id, survivor.id)
    assert response.status_code == 200, response.json
    assert {k: response.json[k] for k in ("requests", "notes", "refusals", "filled",
                                          "already")} == {
        "requests": 1, "notes": 1, "refusals": 0, "filled": ["phone"], "already": False}
    assert response.json["survivor"]["phone"] == "+447911123456"
    assert response.json["survivor"]["email"] == "ada@example.com"
    db.session.close()
    shell = session.get(Customer, dup.id)
    assert shell.merged_into_id == survivor.id and shell.merged_at is not None
    assert shell.phone is None and shell.email is None
    assert session.get(CustomerRequest, request.id).customer_id == survivor.id
    # The CRM: an explicit event naming the survivor, the request under the survivor.
    changes, _ = read_all(client, world, feed_cursor)
    assert {"entity": "customer", "id": str(dup.id), "op": "delete",
            "version": shell.version + 1, "reason": "merged",
            "merged_into": str(survivor.id)} in changes
    moved = [c for c in changes if c["entity"] == "request"]
    assert [c["record"]["customer_id"] for c in moved] == [str(survivor.id)]
    # Store A's tablets: the tombstone, the survivor (now theirs), the moved records.
    changes, _ = pull_all(client, world.tablet_a, a_cursor)
    assert {(c["entity"], c["id"], c["op"]) for c in changes} >= {
        ("customer", str(dup.id), "delete"), ("customer", str(survivor.id), "upsert"),
        ("request", str(request.id), "upsert"), ("note", str(note.id), "upsert")}
    [tombstone] = [c for c in changes if c["id"] == str(dup.id)]
    assert tombstone["merged_into"] == str(survivor.id)
    # A fresh copy never sees the duplicate.
    fresh, _ = pull_all(client, world.tablet_a)
    assert str(dup.id) not in {c["id"] for c in fresh}


def test_a_webhook_hears_customer_merged(client, session, world, pair):
    dup, survivor, _, _ = pair
    created = client.post("/api/v1/webhooks", headers=world.headers("admin"), json={
        "url": "http://127.0.0.1:9/hook", "events": ["customer.merged"]})
    assert created.status_code == 201, created.json
    assert merge(client, world, dup.id, survivor.id).status_code == 200
    db.session.close()
    [delivery] = session.scalars(sa.select(WebhookDelivery)).all()
    assert delivery.event == "customer.merged"
    assert delivery.payload["id"] == str(dup.id)
    assert delivery.payload["merged_into"] == str(survivor.id)


def slots(session, customer_id):
    return {slot: event.action for slot, event in consent.state_of(session, customer_id).items()}


def test_refusals_carry_over_grants_do_not_and_a_later_word_stands(client, session, world,
                                                                   pair):
    dup, survivor, _, _ = pair
    notice = make_notice(session)
    actor = world.tablet_a.actor
    # The survivor's email grant is older than the duplicate's refusal of it: refused.
    record_consent(session, actor, survivor, "marketing", "email", notice=notice)
    record_consent(session, actor, dup, "marketing", "email", "withdraw")
    # The duplicate's refusal of post is older than the survivor's grant: the grant stands.
    record_consent(session, actor, dup, "marketing", "post", "deny")
    record_consent(session, actor, survivor, "marketing", "post", notice=notice)
    # The duplicate's grant by text is not carried over.
    record_consent(session, actor, dup, "marketing", "sms", notice=notice)
    response = merge(client, world, dup.id, survivor.id)
    assert response.json["refusals"] == 1
    db.session.close()
    assert slots(session, survivor.id) == {("marketing", "email"): "withdraw",
                                           ("marketing", "post"): "grant"}


def test_an_offline_tablet_s_captures_land_on_the_survivor(client, session, world, pair):
    dup, survivor, _, _ = pair
    assert merge(client, world, dup.id, survivor.id).status_code == 200
    late = [new_request(dup.id),
            mutation("note", fields={"customer_id": str(dup.id), "body": "Call after 5"}),
            mutation("consent", op="append", fields={
                "customer_id": str(dup.id), "purpose": "marketing", "channel": "all",
                "action": "withdraw", "method": "associate_entry"}),
            mutation("customer", dup.id, {"family_name": "Byron"}, base_version=1)]
    results = push(client, world.tablet_a, late)
    assert [r["status"] for r in results] == ["applied"] * 3 + ["rejected"]
    assert str(survivor.id) in results[3]["errors"]["customer_id"][0]
    db.session.close()
    requests = session.scalars(sa.select(CustomerRequest).where(
        CustomerRequest.id == uuid.UUID(late[0]["id"]))).all()
    assert [r.customer_id for r in requests] == [survivor.id]
    assert slots(session, survivor.id) == {("marketing", "all"): "withdraw"}
    assert slots(session, dup.id) == {}


@pytest.mark.parametrize("case, status, field", [
    ("into itself", 422, "into"),
    ("into nobody", 422, "into"),
    ("nobody", 404, None),
    ("no body", 422, "into"),
    ("not an id", 422, "into"),
    ("an unknown field", 422, "colour"),
    ("by a tablet", 403, None),
    ("into an erased customer", 422, "into"),
    ("again, elsewhere", 409, "id"),
])
def test_bad_merges_are_refused_clearly_and_change_nothing(client, session, world, pair,
                                                           case, status, field):
    dup, survivor, _, _ = pair
    path = f"/api/v1/customers/{dup.id}/merge"
    admin = world.headers("admin")
    if case == "into itself":
        response = merge(client, world, dup.id, dup.id)
    elif case == "into nobody":
        response = merge(client, world, dup.id, uuid.uuid4())
    elif case == "nobody":
        response = merge(client, world, uuid.uuid4(), survivor.id)
    elif case == "no body":
        response = client.post(path, json={}, headers=admin)
    elif case == "not an id":
        response = client.post(path, json={"into": "ada"}, headers=admin)
    elif case == "an unknown field":
        response = client.post(path, json={"into": str(survivor.id), "colour": "tan"},
                               headers=admin)
    elif case == "by a tablet":
        response = client.post(path, json={"into": str(survivor.id)},
                               headers=world.tablet_a.headers)
    elif case == "into an erased customer":
        erased = client.post(f"/api/v1/customers/{survivor.id}/erasure", json={},
                             headers=admin)
        assert erased.status_code == 200, erased.json
        response = merge(client, world, dup.id, survivor.id)
    else:
        third = make_customer(session, world.tablet_b.actor, given_name="Ada")
        assert merge(client, world, dup.id, survivor.id).status_code == 200
        assert merge(client, world, dup.id, survivor.id).json["already"] is True
        response = merge(client, world, dup.id, third.id)
    assert response.status_code == status, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    if field:
        assert field in str(response.json.get("errors")), response.json
    db.session.close()
    if case != "again, elsewhere":
        assert session.get(Customer, dup.id).merged_into_id is None


def test_a_duplicate_changed_since_it_was_read_is_not_merged(client, session, world, pair):
    dup, survivor, _, _ = pair
    path = f"/api/v1/customers/{dup.id}/merge"
    stale = client.post(path, json={"into": str(survivor.id)},
                        headers=world.headers("admin") | {"If-Match": '"0"'})
    assert stale.status_code == 412 and stale.json["code"] == "version_mismatch"
    fresh = client.post(path, json={"into": str(survivor.id)},
                        headers=world.headers("admin") | {"If-Match": f'"{dup.version}"'})
    assert fresh.status_code == 200, fresh.json


def test_a_record_merged_into_one_merged_later_points_at_the_last(client, session, world,
                                                                   pair):
    dup, survivor, request, _ = pair
    last = make_customer(session, world.tablet_b.actor, given_name="Ada")
    assert merge(client, world, dup.id, survivor.id).status_code == 200
    assert merge(client, world, survivor.id, last.id).status_code == 200
    db.session.close()
    assert session.get(Customer, dup.id).merged_into_id == last.id
    assert session.get(CustomerRequest, request.id).customer_id == last.id
    # A tablet holding the first record, from an old list, holds the last.
    held = client.post("/api/v1/sync/hold", headers=world.tablet_b.headers,
                       json={"customer_ids": [str(dup.id)]})
    assert held.status_code == 200, held.json
    changes, _ = pull_all(client, world.tablet_b)
    assert str(last.id) in {c["id"] for c in changes if c["entity"] == "customer"}
    assert str(dup.id) not in {c["id"] for c in changes}


def test_the_survivor_s_export_holds_what_the_merged_record_still_holds(client, session,
                                                                       world, pair):
    dup, survivor, _, _ = pair
    record_consent(session, world.tablet_a.actor, dup, "marketing", "email", "withdraw")
    assert merge(client, world, dup.id, survivor.id).status_code == 200
    exported = client.get(f"/api/v1/customers/{survivor.id}/export",
                          headers=world.headers("admin"))
    assert exported.status_code == 200, exported.json
    [merged] = exported.json["merged_records"]
    assert merged["id"] == str(dup.id) and merged["merged_at"]
    assert [e["action"] for e in merged["sections"]["consent_events"]] == ["withdraw"]
    # The refusal it carried over is the survivor's own now.
    assert [e["action"] for e in exported.json["sections"]["consent_events"]] == ["withdraw"]


def test_a_capture_saved_across_a_merge_is_refused_for_a_retry(session, world, pair):
    """Its device read the customer before the merge committed and wrote after (here the
    merge's write stands in the same transaction): refused with 503, nothing saved; sent
    again, it lands on the survivor."""
    dup, survivor, _, _ = pair
    data = {"customer_id": dup.id, "type": "hold", "description": "Coat until Saturday"}
    request = requests_service.create(session, world.tablet_a.actor, dict(data))
    session.execute(sa.update(Customer).where(Customer.id == dup.id)
                    .values(merged_into_id=survivor.id))
    with pytest.raises(Unavailable):
        session.commit()
    session.rollback()
    assert session.get(CustomerRequest, request.id) is None
    session.execute(sa.update(Customer).where(Customer.id == dup.id)
                    .values(merged_into_id=survivor.id))  # the merge, committed
    session.commit()
    again = requests_service.create(session, world.tablet_a.actor, dict(data))
    session.commit()
    assert again.customer_id == survivor.id


def test_a_push_racing_a_merge_ends_on_the_survivor(app, client, session, world, pair,
                                                     monkeypatch, database_url):
    """The merge has locked the duplicate and is working; a tablet pushes a request for the
    duplicate meanwhile. On PostgreSQL the push read the duplicate before the merge
    committed and its write waits for the merge's lock: it is refused for a retry (503),
    and the retry lands on the survivor. However the two interleave, that is where the
    request ends."""
    dup, survivor, _, _ = pair
    locked, release = threading.Event(), threading.Event()
    fill = merging._fill

    def slow_fill(*args):
        locked.set()
        release.wait(10)
        fill(*args)

    monkeypatch.setattr(merging, "_fill", slow_fill)
    answers = []

    def merge_in_its_own_session():
        with app.app_context():
            answers.append(merge(app.test_client(), world, dup.id, survivor.id).status_code)
            db.session.remove()

    merger = threading.Thread(target=merge_in_its_own_session)
    merger.start()
    assert locked.wait(10)
    threading.Timer(0.5, release.set).start()
    late = new_request(dup.id)
    first = client.post("/api/v1/sync/push", headers=world.tablet_a.headers,
                        json={"device_id": str(world.tablet_a.actor.device_id),
                              "mutations": [late]})
    merger.join(20)
    assert answers == [200]
    if is_postgres(database_url):
        assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    if first.status_code == 503:
        assert push(client, world.tablet_a, [late])[0]["status"] == "applied"
    db.session.close()
    assert session.get(CustomerRequest, uuid.UUID(late["id"])).customer_id == survivor.id


def test_the_cli_merges_and_says_why_it_will_not(app, session, world, pair):
    dup, survivor, _, _ = pair
    access = privacy_requests.receive(session, ADMIN, dup.id, "access")
    session.commit()
    refused = CliRunner().invoke(app.cli, ["customers", "merge", str(dup.id),
                                           "--into", str(dup.id)])
    assert refused.exit_code == 1 and "cannot be merged into themselves" in refused.output
    done = CliRunner().invoke(app.cli, ["customers", "merge", str(dup.id),
                                        "--into", str(survivor.id)])
    assert done.exit_code == 0, done.output
    assert "1 requests and 1 notes moved" in done.output and "phone" in done.output
    again = CliRunner().invoke(app.cli, ["customers", "merge", str(dup.id),
                                         "--into", str(survivor.id)])
    assert again.exit_code == 0 and "already" in again.output
    db.session.close()
    # The person's access request stands, on the record that now stands for them.
    assert session.get(PrivacyRequest, access.id).customer_id == survivor.id
