from tests.factories import make_customer


def test_tablet_lists_requests(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    response = client.post("/api/v1/requests", headers=world.tablet_a.headers,
                           json={"customer_id": str(customer.id), "type": "hold",
                                 "description": "Coat until Saturday"})
    assert response.status_code == 201, response.json
    listed = client.get("/api/v1/requests", headers=world.tablet_a.headers).json
    assert [r["description"] for r in listed["items"]] == ["Coat until Saturday"]
