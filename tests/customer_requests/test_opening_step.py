"""A request's opening step is read from the request, on every path that captures one:
no row of its own, and the same step wherever its history is shown."""

import json
import uuid

import pytest
import sqlalchemy as sa

from server.changelog.models import Change
from server.customer_requests import history
from server.customer_requests.models import CustomerRequest, StatusChange
from tests.factories import make_customer
from tests.sync.helpers import new_request, push

URL = "/api/v1/requests"


@pytest.fixture
def customer(session, world):
    return make_customer(session, world.tablet_a.actor)


def _capture_api(client, world, customer) -> list[str]:
    body = {"customer_id": str(customer.id), "type": "hold", "sku": "CT-1",
            "captured_by": "A-117"}
    response = client.post(URL, json=body, headers=world.tablet_a.headers)
    assert response.status_code == 201, response.json
    return [response.json["id"]]


def _capture_push(client, world, customer) -> list[str]:
    # 25: more than bulk.COPY_FROM, so PostgreSQL takes its COPY path.
    results = push(client, world.tablet_a, [new_request(customer.id) for _ in range(25)])
    assert {r["status"] for r in results} == {"applied"}
    return [r["id"] for r in results]


@pytest.mark.parametrize("capture", [_capture_api, _capture_push], ids=["api", "push"])
def test_a_capture_stores_no_step_and_shows_its_opening_everywhere(client, world, session,
                                                                   customer, capture):
    ids = capture(client, world, customer)
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(StatusChange)) == 0
    for request_id in ids:
        record = session.get(CustomerRequest, uuid.UUID(request_id))
        assert record.key_id == world.tablet_a.actor.key_id
        opening = {"from_status": None, "to_status": "open", "reason": None,
                   "changed_by": "A-117", "changed_at": record.created_at.isoformat()}
        shown = client.get(f"{URL}/{request_id}", headers=world.tablet_a.headers).json
        assert shown["history"] == [opening]
        logged = session.scalars(sa.select(Change.history).where(
            Change.record_id == record.id)).one()
        assert json.loads(logged) == [opening]  # what the CRM feed sends with it
        assert json.loads(history.of_requests(session, [request_id])[request_id]) == [opening]


def test_later_steps_follow_the_opening_in_order(client, world, session, customer):
    [request_id] = _capture_push(client, world, customer)[:1]
    url = f"{URL}/{request_id}"
    client.post(f"{url}/status", json={"status": "ready", "changed_by": "A-9"},
                headers=world.tablet_a.headers)
    done = client.post(f"{url}/status", json={"status": "fulfilled", "reason": "collected",
                                             "changed_by": "A-3"},
                       headers=world.tablet_a.headers)
    assert done.status_code == 200, done.json
    expected = [(None, "open", "A-117"), ("open", "ready", "A-9"), ("ready", "fulfilled", "A-3")]
    assert [(h["from_status"], h["to_status"], h["changed_by"])
            for h in done.json["history"]] == expected
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(StatusChange)) == 2
    logged = session.scalars(sa.select(Change.history).where(
        Change.record_id == uuid.UUID(request_id), Change.superseded.is_(False))).one()
    read = history.of_requests(session, [request_id])[request_id]
    for text in (logged, read):
        assert [(h["from_status"], h["to_status"], h["changed_by"])
                for h in json.loads(text)] == expected


def test_the_capturing_key_is_the_callers_never_the_bodys(client, world, session, customer):
    """`key_id` is the authenticated key's: sent in a body it is an unknown field, named."""
    other = str(uuid.uuid4())
    [result] = push(client, world.tablet_a, [new_request(customer.id, key_id=other)])
    assert result["status"] == "rejected"
    assert result["errors"] == {"key_id": ["Unknown field."]}
    response = client.post(URL, json={"customer_id": str(customer.id), "type": "hold",
                                      "sku": "CT-1", "key_id": other},
                           headers=world.tablet_a.headers)
    assert response.status_code == 422
    assert response.json["errors"] == {"json": {"key_id": ["Unknown field."]}}
    assert session.scalar(sa.select(sa.func.count()).select_from(CustomerRequest)) == 0
