"""Requests over HTTP: capture, filters, transitions, history, store isolation."""

import uuid
from datetime import date, timedelta

import pytest

from tests.factories import make_customer, make_request

URL = "/api/v1/requests"


@pytest.fixture
def customer(session, world):
    return make_customer(session, world.tablet_a.actor)


def test_capture_starts_open_in_the_tablets_store_with_history(client, world, customer):
    body = {"customer_id": str(customer.id), "type": "special_order", "sku": "CT-2210",
            "size": "M", "colour": "navy", "due_date": "2026-12-24",
            "notify_channels": ["sms"], "captured_by": "A-117",
            "captured_at": "2026-11-23T10:04:00+01:00"}
    response = client.post(URL, json=body, headers=world.tablet_a.headers)
    assert response.status_code == 201, response.json
    record = response.json
    assert record["status"] == "open"
    assert record["store_id"] == str(world.store_a.id)
    assert record["captured_at"] == "2026-11-23T09:04:00+00:00"
    assert [h["to_status"] for h in record["history"]] == ["open"]
    assert record["version"] == 1


def test_a_request_must_say_what_was_asked_for(client, world, customer):
    response = client.post(URL, json={"customer_id": str(customer.id), "type": "hold"},
                           headers=world.tablet_a.headers)
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"sku", "description"}


def test_unknown_customer_is_named(client, world):
    response = client.post(URL, json={"customer_id": str(uuid.uuid4()), "type": "hold",
                                      "sku": "X"}, headers=world.tablet_a.headers)
    assert response.status_code == 422
    assert "customer_id" in response.json["errors"]["json"]


def test_admin_names_the_store_and_it_must_exist(client, world, customer):
    body = {"customer_id": str(customer.id), "type": "hold", "sku": "X"}
    missing = client.post(URL, json=body, headers=world.headers("admin"))
    assert missing.status_code == 422 and "store_id" in missing.json["errors"]["json"]
    made = client.post(URL, json=body | {"store_id": str(world.store_b.id)},
                       headers=world.headers("admin"))
    assert made.status_code == 201 and made.json["store_id"] == str(world.store_b.id)


def test_illegal_transition_is_a_409_naming_the_allowed_ones(client, world, session, customer):
    record = make_request(session, world.tablet_a.actor, customer)
    url = f"{URL}/{record.id}/status"
    done = client.post(url, json={"status": "fulfilled", "reason": "collected"},
                       headers=world.tablet_a.headers)
    assert done.status_code == 200 and done.json["closed_at"]
    again = client.post(url, json={"status": "ready"}, headers=world.tablet_a.headers)
    assert again.status_code == 409
    assert again.json["code"] == "illegal_transition"
    assert again.json["allowed"] == []
    assert again.json["current"] == "fulfilled"


def test_transition_history_and_versions(client, world, session, customer):
    record = make_request(session, world.tablet_a.actor, customer)
    url = f"{URL}/{record.id}"
    client.post(f"{url}/status", json={"status": "ready", "changed_by": "A-9"},
                headers=world.tablet_a.headers)
    response = client.patch(url, json={"status": "cancelled", "reason": "not_available"},
                            headers=world.tablet_a.headers | {"If-Match": '"2"'})
    assert response.status_code == 200, response.json
    steps = [(h["from_status"], h["to_status"], h["reason"]) for h in response.json["history"]]
    assert steps == [(None, "open", None), ("open", "ready", None),
                     ("ready", "cancelled", "not_available")]
    assert response.json["version"] == 3
    assert response.json["status_reason"] == "not_available"


def test_patch_to_an_illegal_status_changes_nothing(client, world, session, customer):
    record = make_request(session, world.tablet_a.actor, customer)
    response = client.patch(f"{URL}/{record.id}", json={"colour": "red", "status": "expired"},
                            headers=world.tablet_a.headers)
    assert response.status_code == 422  # expired needs a reason
    fetched = client.get(f"{URL}/{record.id}", headers=world.tablet_a.headers).json
    assert (fetched["colour"], fetched["status"], fetched["version"]) == ("tan", "open", 1)


def test_a_closed_request_cannot_be_edited(client, world, session, customer):
    record = make_request(session, world.tablet_a.actor, customer)
    client.post(f"{URL}/{record.id}/status", json={"status": "cancelled",
                                                   "reason": "duplicate"},
                headers=world.tablet_a.headers)
    response = client.patch(f"{URL}/{record.id}", json={"size": "40"},
                            headers=world.tablet_a.headers)
    assert response.status_code == 409


def test_stale_if_match_is_412(client, world, session, customer):
    record = make_request(session, world.tablet_a.actor, customer)
    response = client.patch(f"{URL}/{record.id}", json={"size": "40"},
                            headers=world.tablet_a.headers | {"If-Match": '"7"'})
    assert response.status_code == 412


def test_filters(client, world, session, customer):
    today = date.today()
    overdue = make_request(session, world.tablet_a.actor, customer, type="hold",
                           due_date=today - timedelta(days=2))
    later = make_request(session, world.tablet_a.actor, customer, due_date=today
                         + timedelta(days=9))
    make_request(session, world.tablet_b.actor, customer)

    def ids(**query):
        response = client.get(URL, query_string=query, headers=world.headers("admin"))
        assert response.status_code == 200, response.json
        return {r["id"] for r in response.json["items"]}

    assert ids(store_id=world.store_a.id) == {str(overdue.id), str(later.id)}
    assert ids(type="hold") == {str(overdue.id)}
    assert ids(overdue="true") == {str(overdue.id)}
    assert ids(due_after=today.isoformat()) == {str(later.id)}
    assert ids(due_before=today.isoformat()) == {str(overdue.id)}
    assert ids(status=["ready", "fulfilled"]) == set()
    assert len(ids(status="open")) == 3


def test_list_pages_newest_first_without_repeats(client, world, session, customer):
    made = [str(make_request(session, world.tablet_a.actor, customer).id) for _ in range(5)]
    seen, after = [], None
    for _ in range(5):
        query = {"limit": 2} | ({"after": after} if after else {})
        page = client.get(URL, query_string=query, headers=world.tablet_a.headers).json
        seen += [r["id"] for r in page["items"]]
        after = page["next"]
        if not after:
            break
    assert seen == list(reversed(made))
