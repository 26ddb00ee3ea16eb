"""The admin API for subscriptions: validation, secrets shown once, deliveries, replay."""

from __future__ import annotations

import hashlib
import hmac
import uuid

import pytest
import sqlalchemy as sa

from server.webhooks.models import WebhookDelivery
from tests.conftest import TEST_SECRET_KEY
from tests.factories import make_customer
from tests.webhooks.conftest import URL, subscribe

WEBHOOKS = "/api/v1/webhooks"


def test_a_new_subscription_shows_its_secret_once(app, client, session, world):
    response = client.post(WEBHOOKS, headers=world.headers("admin"),
                           json={"url": URL, "events": ["request.changed", "customer.erased",
                                                        "request.changed"]})
    assert response.status_code == 201
    created = response.json
    assert response.headers["Location"] == f"{WEBHOOKS}/{created['id']}"
    assert created["events"] == ["customer.erased", "request.changed"]
    assert (created["active"], created["max_attempts"], created["version"]) == (True, 8, 1)
    derived = hmac.new(TEST_SECRET_KEY.encode(), f"webhook:{created['id']}".encode(),
                       hashlib.sha256).hexdigest()
    assert created["secret"] == derived

    shown = client.get(f"{WEBHOOKS}/{created['id']}", headers=world.headers("admin"))
    assert shown.status_code == 200 and "secret" not in shown.json
    assert shown.headers["ETag"] == '"1"'
    listed = client.get(WEBHOOKS, headers=world.headers("admin")).json
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]
    # Stored nowhere: no column of any webhook table holds it.
    for table in ("webhook_subscriptions", "webhook_deliveries"):
        for row in session.execute(sa.text(f"SELECT * FROM {table}")):
            assert created["secret"] not in " ".join(map(str, row))


def test_everything_and_something_is_everything(client, world):
    assert subscribe(client, world, events=["note.changed", "*"])["events"] == ["*"]


def test_subscriptions_are_listed_newest_first_in_pages(client, world):
    made = [subscribe(client, world)["id"] for _ in range(3)]
    first = client.get(WEBHOOKS, query_string={"limit": 2}, headers=world.headers("admin")).json
    rest = client.get(WEBHOOKS, query_string={"limit": 2, "after": first["next"]},
                      headers=world.headers("admin")).json
    assert rest["next"] is None
    assert sorted(i["id"] for i in first["items"] + rest["items"]) == sorted(made)


@pytest.mark.parametrize("body, field", [
    ({"url": "ftp://crm.example.com/hooks", "events": ["*"]}, "url"),
    ({"url": "javascript:alert(1)", "events": ["*"]}, "url"),
    ({"url": "crm.example.com/hooks", "events": ["*"]}, "url"),
    ({"url": "https://crm.example.com/" + "a" * 2000, "events": ["*"]}, "url"),
    ({"url": "https://crm.example.com/a b", "events": ["*"]}, "url"),
    ({"url": "https://crm.example.com/\nHost: evil", "events": ["*"]}, "url"),
    ({"url": "", "events": ["*"]}, "url"),
    ({"events": ["*"]}, "url"),
    ({"url": URL, "events": ["order.shipped"]}, "events"),
    ({"url": URL, "events": ["notice.changed"]}, "events"),
    ({"url": URL, "events": []}, "events"),
    ({"url": URL, "events": "*"}, "events"),
    ({"url": URL}, "events"),
    ({"url": URL, "events": ["*"], "max_attempts": 0}, "max_attempts"),
    ({"url": URL, "events": ["*"], "max_attempts": 1.5}, "max_attempts"),
    ({"url": URL, "events": ["*"], "max_attempts": 10**30}, "max_attempts"),
    ({"url": URL, "events": ["*"], "secret": "mine"}, "secret"),
])
def test_bad_subscriptions_are_422_naming_the_field(client, session, world, body, field):
    response = client.post(WEBHOOKS, json=body, headers=world.headers("admin"))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == "validation_failed"
    assert field in response.json["errors"]["json"]
    assert client.get(WEBHOOKS, headers=world.headers("admin")).json["items"] == []


@pytest.mark.parametrize("scope", ["tablet", "crm", "channel"])
def test_only_admin_keys_manage_webhooks(client, world, scope):
    response = client.post(WEBHOOKS, json={"url": URL, "events": ["*"]},
                           headers=world.headers(scope))
    assert response.status_code == 403
    assert client.get(WEBHOOKS, headers=world.headers(scope)).status_code == 403


def test_deactivating_is_idempotent_and_guarded_by_if_match(client, world):
    hook = subscribe(client, world)
    url = f"{WEBHOOKS}/{hook['id']}"
    admin = world.headers("admin")
    stale = client.delete(url, headers=admin | {"If-Match": '"7"'})
    assert stale.status_code == 412 and stale.json["current_version"] == 1
    assert client.delete(url, headers=admin | {"If-Match": '"1"'}).status_code == 204
    assert client.delete(url, headers=admin).status_code == 204
    shown = client.get(url, headers=admin).json
    assert (shown["active"], shown["version"]) == (False, 2)
    assert shown["deactivated_at"]
    refused = client.post(f"{url}/replay", json={}, headers=admin)
    assert refused.status_code == 409


def test_unknown_subscriptions_are_404(client, world):
    unknown = f"{WEBHOOKS}/{uuid.uuid4()}"
    admin = world.headers("admin")
    for method, path, body in [("GET", unknown, None), ("DELETE", unknown, None),
                               ("GET", f"{unknown}/deliveries", None),
                               ("POST", f"{unknown}/replay", {})]:
        response = client.open(path, method=method, json=body, headers=admin)
        assert response.status_code == 404 and response.json["code"] == "not_found"


def test_deliveries_are_listed_newest_first_in_pages_with_a_status_filter(client, session,
                                                                          world):
    hook = subscribe(client, world)
    for _ in range(5):
        make_customer(session, world.tablet_a.actor)
    url = f"{WEBHOOKS}/{hook['id']}/deliveries"
    admin = world.headers("admin")
    seen, after = [], None
    for _ in range(5):
        page = client.get(url, query_string={"limit": 2} | ({"after": after} if after else {}),
                          headers=admin).json
        seen += page["items"]
        after = page["next"]
        if after is None:
            break
    assert len(seen) == 5 and len({item["id"] for item in seen}) == 5
    assert [item["seq"] for item in seen] == sorted((item["seq"] for item in seen),
                                                    reverse=True)
    assert {item["status"] for item in seen} == {"pending"}
    assert seen[0]["payload"]["delivery_id"] == seen[0]["id"] and seen[0]["log"] == []
    delivered = client.get(url, query_string={"status": "delivered"}, headers=admin).json
    assert delivered == {"items": [], "next": None}
    bad = client.get(url, query_string={"status": "lost"}, headers=admin)
    assert bad.status_code == 422 and "status" in bad.json["errors"]["query"]


def test_replay_takes_only_whole_positive_sequence_numbers(client, world):
    hook = subscribe(client, world)
    url = f"{WEBHOOKS}/{hook['id']}/replay"
    for body in ({"from_seq": -1}, {"from_seq": "5"}, {"from_seq": 2**63},
                 {"dead_only": "maybe"}, {"from": 1}):
        response = client.post(url, json=body, headers=world.headers("admin"))
        assert response.status_code == 422, body
    ok = client.post(url, json={"from_seq": 2**63 - 1}, headers=world.headers("admin"))
    assert ok.json == {"requeued": 0}


def test_replay_counts_what_it_queued_and_leaves_deliveries_in_flight(client, session,
                                                                      world):
    hook = subscribe(client, world)
    for _ in range(3):
        make_customer(session, world.tablet_a.actor)
    session.close()
    first = session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.seq)).first()
    first.status = "sending"
    session.commit()
    replayed = client.post(f"{WEBHOOKS}/{hook['id']}/replay", json={},
                           headers=world.headers("admin"))
    assert replayed.json == {"requeued": 2}
