"""Pruning the log keeps every reader correct; a cursor older than pruned tombstones
gets 410; customers picked after a lookup follow the store's tablets."""

from datetime import timedelta

import sqlalchemy as sa

from server.changelog import retention
from server.changelog.models import Change
from server.customers import service as customers
from tests.factories import make_customer, make_note
from tests.sync.helpers import pull_all


def test_pruning_superseded_changes_changes_no_pull(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    _, early = pull_all(client, world.tablet_a)
    for name in ("B", "C"):
        customers.update(session, world.tablet_a.actor, customer.id, {"given_name": name})
        session.commit()
    before = pull_all(client, world.tablet_a, early)[0]
    result = retention.prune(session, timedelta(days=90))
    session.commit()
    assert result.superseded > 0 and result.tombstones == 0
    assert pull_all(client, world.tablet_a, early)[0] == before
    assert pull_all(client, world.tablet_a)[0] == before  # snapshot


def test_a_cursor_older_than_pruned_tombstones_must_resync(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    note = make_note(session, world.tablet_a.actor, customer)
    _, old_cursor = pull_all(client, world.tablet_a)
    client.delete(f"/api/v1/notes/{note.id}", headers=world.tablet_a.headers)
    _, fresh_cursor = pull_all(client, world.tablet_a, old_cursor)
    retention.prune(session, timedelta(0))
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).where(Change.op == "delete")) == 0
    gone = client.get("/api/v1/sync/pull", query_string={"cursor": old_cursor},
                      headers=world.tablet_a.headers)
    assert gone.status_code == 410
    assert gone.json["code"] == "cursor_expired"
    assert client.get("/api/v1/sync/pull", query_string={"cursor": fresh_cursor},
                      headers=world.tablet_a.headers).status_code == 200
    snapshot, _ = pull_all(client, world.tablet_a)
    assert str(note.id) not in {c["id"] for c in snapshot}


def test_prune_command_reports(app, world, session):
    result = app.test_cli_runner().invoke(args=["changes", "prune", "--tombstone-days", "30"])
    assert result.exit_code == 0 and "pruned" in result.output


def test_a_held_customer_follows_the_store(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    _, cursor = pull_all(client, world.tablet_b)
    held = client.post("/api/v1/sync/hold", json={"customer_ids": [str(customer.id)]},
                       headers=world.tablet_b.headers)
    assert held.status_code == 200 and held.json == {"held": 1}
    changes, cursor = pull_all(client, world.tablet_b, cursor)
    assert [c["id"] for c in changes] == [str(customer.id)]
    customers.update(session, world.tablet_a.actor, customer.id, {"given_name": "Later"})
    session.commit()
    changes, _ = pull_all(client, world.tablet_b, cursor)
    assert [c["record"]["given_name"] for c in changes] == ["Later"]


def test_holding_an_unknown_customer_is_named(client, world):
    response = client.post("/api/v1/sync/hold",
                           json={"customer_ids": ["5c1f7a9e-0000-4000-8000-000000000000"]},
                           headers=world.tablet_a.headers)
    assert response.status_code == 422
    assert "customer_ids" in response.json["errors"]["json"]
