"""An erasure is followed until every downstream system has applied it: the CRM says so
through the API, a webhook subscriber by taking the `customer.erased` delivery."""

from __future__ import annotations

from tests.factories import make_customer
from tests.webhooks.conftest import deliver_until_settled, subscribe


def erasures(client, world, **query) -> list[tuple[str, bool]]:
    items = client.get("/api/v1/erasures", query_string=query,
                       headers=world.headers("admin")).json["items"]
    return sorted((i["system"], i["acknowledged_at"] is not None) for i in items)


def test_the_crm_and_each_subscriber_are_followed_until_they_acknowledge(
        app, client, session, world, receiver, settings):
    hook = subscribe(client, world, receiver.url, events=("customer.erased",))
    subscribe(client, world, receiver.url, events=("request.changed",))  # not told: not owed
    ada = make_customer(session, world.tablet_a.actor)
    assert client.post(f"/api/v1/customers/{ada.id}/erasure", json={},
                       headers=world.headers("admin")).status_code == 200
    webhook = f"webhook {hook['id']}"
    assert erasures(client, world, pending="true") == [("crm", False), (webhook, False)]

    deliver_until_settled(app, settings)
    assert [r.event for r in receiver.received if r.answered == 200] == ["customer.erased"]
    assert erasures(client, world, pending="true") == [("crm", False)]

    ack = client.post(f"/api/v1/customers/{ada.id}/erasure/ack", json={},
                      headers=world.headers("crm"))
    assert ack.status_code == 200 and ack.json["system"] == "crm"
    assert erasures(client, world, pending="true") == []
    assert erasures(client, world) == [("crm", True), (webhook, True)]
    other = make_customer(session, world.tablet_a.actor)  # never erased: nothing to ack
    assert client.post(f"/api/v1/customers/{other.id}/erasure/ack", json={},
                       headers=world.headers("crm")).status_code == 404
