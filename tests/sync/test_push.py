"""Push: idempotent, per-mutation results, per-field conflicts, lifecycle, isolation."""

import sqlalchemy as sa

from server.changelog.models import Change
from server.customer_requests.models import CustomerRequest
from tests.factories import make_customer, make_request, make_tablet
from tests.sync.helpers import mutation, new_customer, new_request, push


def change_count(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Change))


def test_a_replayed_push_changes_nothing_and_answers_duplicate(client, world, session):
    customer = new_customer(email="Ada@Example.com")
    batch = [customer, new_request(customer["id"])]
    first = push(client, world.tablet_a, batch)
    assert [r["status"] for r in first] == ["applied", "applied"]
    changes = change_count(session)
    second = push(client, world.tablet_a, batch)
    assert [r["status"] for r in second] == ["duplicate", "duplicate"]
    assert [{**r, "status": "applied"} for r in second] == first
    assert change_count(session) == changes


def test_1000_mutations_with_10_invalid_apply_990(client, world, session):
    batch = [new_customer(given_name=f"C{i}") for i in range(990)]
    bad = [new_customer(email="not an email"), new_customer(given_name=""),
           mutation("request", fields={"type": "teleport"}), mutation("unicorn"),
           {"mutation_id": "nope"}, "not even an object", new_customer(phone="12"),
           new_request(customer_id="5c1f7a9e-0000-4000-8000-000000000000"),
           mutation("customer", fields={"shoe_size": 9}),
           mutation("customer", op="append", fields={"given_name": "X"})]
    for position, item in zip(range(5, 1000, 99), bad, strict=False):
        batch.insert(position, item)
    results = push(client, world.tablet_a, batch)
    assert len(results) == 1000
    statuses = [r["status"] for r in results]
    assert statuses.count("applied") == 990 and statuses.count("rejected") == 10
    for result in results:
        if result["status"] == "rejected":
            assert result["errors"], result
    assert {r["mutation_id"] for r in results if r["status"] == "rejected"} >= {
        m["mutation_id"] for m in bad if isinstance(m, dict) and "entity" in m}


def test_rejected_errors_name_the_field(client, world):
    [result] = push(client, world.tablet_a, [new_customer(email="nope")])
    assert result["status"] == "rejected"
    assert "email" in result["errors"]


def test_two_devices_editing_the_same_field_one_applies_one_conflicts(client, world, session):
    other = make_tablet(session, world.store_a)
    record = make_request(session, world.tablet_a.actor,
                          make_customer(session, world.tablet_a.actor))
    first = push(client, world.tablet_a, [mutation("request", record.id, {"size": "39"},
                                                   base_version=1)])
    edit = mutation("request", record.id, {"size": "40", "colour": "black"}, base_version=1)
    second = push(client, other, [edit])
    assert second[0]["mutation_id"] == edit["mutation_id"]
    assert first[0]["status"] == "applied" and first[0]["version"] == 2
    assert second[0]["status"] == "conflict"
    assert second[0]["conflicts"] == ["size"]
    assert second[0]["record"]["size"] == "39" and second[0]["version"] == 2
    stored = session.get(CustomerRequest, record.id)
    session.refresh(stored)
    assert (stored.size, stored.colour) == ("39", "tan")  # nothing from the conflict applied


def test_edits_to_different_fields_merge(client, world, session):
    other = make_tablet(session, world.store_a)
    record = make_request(session, world.tablet_a.actor,
                          make_customer(session, world.tablet_a.actor))
    push(client, world.tablet_a, [mutation("request", record.id, {"size": "39"},
                                           base_version=1)])
    [merged] = push(client, other, [mutation("request", record.id, {"colour": "black"},
                                             base_version=1)])
    assert merged["status"] == "applied" and merged["version"] == 3
    fetched = client.get(f"/api/v1/requests/{record.id}", headers=world.tablet_a.headers).json
    assert (fetched["size"], fetched["colour"]) == ("39", "black")


def test_same_value_on_both_sides_is_not_a_conflict(client, world, session):
    other = make_tablet(session, world.store_a)
    record = make_request(session, world.tablet_a.actor,
                          make_customer(session, world.tablet_a.actor))
    push(client, world.tablet_a, [mutation("request", record.id, {"size": "39"},
                                           base_version=1)])
    [result] = push(client, other, [mutation("request", record.id, {"size": "39"},
                                             base_version=1)])
    assert result["status"] == "applied"


def test_status_changes_obey_the_lifecycle(client, world, session):
    record = make_request(session, world.tablet_a.actor,
                          make_customer(session, world.tablet_a.actor))
    results = push(client, world.tablet_a, [
        mutation("request", record.id, {"status": "fulfilled", "reason": "collected"},
                 base_version=1),
        mutation("request", record.id, {"status": "ready"}, base_version=2),
    ])
    assert [r["status"] for r in results] == ["applied", "rejected"]
    assert "It is closed: it stays as it is." in results[1]["errors"]["status"][0]
    history = client.get(f"/api/v1/requests/{record.id}", headers=world.tablet_a.headers)
    assert history.json["history"][-1]["changed_by"] == "A-117"


def test_a_sensitive_note_is_applied_with_a_warning(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    [result] = push(client, world.tablet_a, [mutation(
        "note", fields={"customer_id": str(customer.id), "body": "Pregnant, due in May"})])
    assert result["status"] == "applied"
    assert result["warnings"][0]["categories"] == ["pregnancy"]


def test_another_stores_record_is_rejected(client, world, session):
    record = make_request(session, world.tablet_b.actor,
                          make_customer(session, world.tablet_b.actor))
    [result] = push(client, world.tablet_a, [mutation("request", record.id, {"size": "1"},
                                                      base_version=1)])
    assert result["status"] == "rejected"
    assert session.get(CustomerRequest, record.id).size == "38"


def test_note_delete_and_its_replay(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    create = mutation("note", fields={"customer_id": str(customer.id), "body": "Likes navy"})
    delete = mutation("note", create["id"], op="delete", base_version=1)
    results = push(client, world.tablet_a, [create, delete])
    assert [r["status"] for r in results] == ["applied", "applied"]
    assert results[1]["version"] == 2
    assert push(client, world.tablet_a, [delete])[0]["status"] == "duplicate"


def test_push_is_bound_to_the_keys_device_and_limited(client, world):
    response = client.post("/api/v1/sync/push", headers=world.tablet_a.headers,
                           json={"device_id": str(world.tablet_b.actor.device_id),
                                 "mutations": []})
    assert response.status_code == 403
    too_many = client.post("/api/v1/sync/push", headers=world.tablet_a.headers,
                           json={"device_id": str(world.tablet_a.actor.device_id),
                                 "mutations": [new_customer() for _ in range(1001)]})
    assert too_many.status_code == 413
    assert too_many.json["code"] == "too_many_mutations"


def test_a_new_device_of_the_same_store_replays_what_the_old_one_applied(client, world,
                                                                          session):
    """A tablet re-enrolled with a new key sends again what its old key applied but never
    heard back about: a duplicate for the same store, refused for another store."""
    batch = [new_customer(given_name="Ada")]
    [first] = push(client, world.tablet_a, batch)
    assert first["status"] == "applied"
    changes = change_count(session)
    new_key = make_tablet(session, world.store_a)
    session.commit()
    [again] = push(client, new_key, batch)
    assert again == first | {"status": "duplicate"}
    [elsewhere] = push(client, world.tablet_b, batch)
    assert elsewhere["status"] == "rejected" and "mutation_id" in elsewhere["errors"]
    assert change_count(session) == changes


def test_new_customers_and_their_requests_go_in_together_not_one_by_one(
        client, world, session, monkeypatch):
    """A group of new records is one flush; falling back to one savepoint per mutation
    is for surprises. New customers are the common case (the store's scope row refers to
    the customer row), so they must not be a surprise."""
    from server.sync import push as pushing

    one_by_one = []
    careful = pushing._one
    monkeypatch.setattr(pushing, "_one", lambda *a, **k: one_by_one.append(1) or careful(*a, **k))
    customers = [new_customer(given_name=f"C{i}") for i in range(5)]
    batch = customers + [new_request(c["id"]) for c in customers]
    results = push(client, world.tablet_a, batch)
    assert [r["status"] for r in results] == ["applied"] * 10
    assert one_by_one == []
