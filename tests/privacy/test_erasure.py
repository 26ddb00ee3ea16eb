"""Erasure reaches every copy: the tables, every tablet that held the customer, the CRM
feed; later pushes from an offline tablet are refused, a withdrawal still recorded."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from server.dashboard import search_index
from server.dashboard.models import RequestSearch
from server.privacy import erasure
from server.webhooks import service as webhooks
from server.webhooks.models import WebhookDelivery
from tests.factories import ADMIN, make_notice
from tests.sync.helpers import mutation, pull_all, push

EMAIL, PHONE, FAMILY = "wilhelmina.quarrie@example.com", "+447400123456", "Quarrie"
NOTE, ASK = "Wilhelmina is buying for her daughter's wedding", "Veil for Wilhelmina's daughter"
SECRETS = [EMAIL, PHONE, FAMILY, "Wilhelmina", NOTE, ASK, "7400123456"]


@pytest.fixture
def captured(client, session, world):
    """Captured offline on store A's tablet, then looked up and added to on store B's,
    with a webhook receiver subscribed to everything (its deliveries are in the outbox)."""
    webhooks.create(session, ADMIN, {"url": "https://crm.example.com/hooks", "events": ["*"]},
                    master_key="test", default_max_attempts=3)
    session.commit()
    notice = make_notice(session)
    customer = mutation("customer", fields={"given_name": "Wilhelmina", "family_name": FAMILY,
                                            "email": EMAIL, "phone": PHONE})
    customer_id = customer["id"]
    request = mutation("request", fields={"customer_id": customer_id, "type": "special_order",
                                          "description": ASK, "sku": "VL-01",
                                          "notify_channels": ["sms"]})
    note = mutation("note", fields={"customer_id": customer_id, "body": NOTE})
    grant = mutation("consent", op="append", fields={
        "customer_id": customer_id, "purpose": "marketing", "channel": "email",
        "action": "grant", "notice_version_id": str(notice.id), "method": "customer_on_tablet"})
    results = push(client, world.tablet_a, [customer, request, note, grant])
    assert {r["status"] for r in results} == {"applied"}, results
    client.post("/api/v1/sync/hold", json={"customer_ids": [customer_id]},
                headers=world.tablet_b.headers)
    other = mutation("note", fields={"customer_id": customer_id, "body": NOTE + " (B)"})
    assert push(client, world.tablet_b, [other])[0]["status"] == "applied"
    cursors = {}
    for name, tablet in (("a", world.tablet_a), ("b", world.tablet_b)):
        changes, cursors[name] = pull_all(client, tablet)
        assert any(c["entity"] == "customer" and c["id"] == customer_id for c in changes)
    feed = client.get("/api/v1/feed", headers=world.headers("crm")).json
    assert any(c["id"] == customer_id for c in feed["changes"])
    search_index.catch_up(session)  # the dashboard's search holds a copy of the request
    assert ASK.lower() in session.get(RequestSearch, uuid.UUID(request["id"])).text
    return {"id": customer_id, "request": request["id"], "notes": [note["id"], other["id"]],
            "notice": notice, "cursors": cursors, "feed": feed["next_cursor"]}


def erase(client, world, customer_id):
    return client.post(f"/api/v1/customers/{customer_id}/erasure", json={},
                       headers=world.headers("admin"))


def test_erasure_reaches_every_copy(client, session, world, captured):
    response = erase(client, world, captured["id"])
    assert response.status_code == 200, response.json
    assert response.json["notes_deleted"] == 2
    assert response.json["requests_anonymised"] == 1
    assert response.json["suppressed"] == 2
    # No table holds any of it.
    session.close()
    assert erasure.still_holding(session, SECRETS) == []
    # Every tablet that held the customer forgets them and their notes and consent.
    for name, tablet in (("a", world.tablet_a), ("b", world.tablet_b)):
        changes, _ = pull_all(client, tablet, captured["cursors"][name])
        gone = {(c["entity"], c["id"]) for c in changes if c["op"] == "delete"}
        assert ("customer", captured["id"]) in gone
        assert all(c.get("reason") == "erased" for c in changes if c["op"] == "delete")
        assert {e for e, _ in gone} >= {"customer", "note", "consent"}
        assert not any(secret in str(changes) for secret in SECRETS)
    changes, _ = pull_all(client, world.tablet_a, captured["cursors"]["a"])
    [request] = [c for c in changes if c["entity"] == "request"]
    assert request["record"]["description"] is None and request["record"]["sku"] == "VL-01"
    # A fresh tablet's snapshot holds nothing of theirs either.
    assert not any(secret in str(pull_all(client, world.tablet_a)[0]) for secret in SECRETS)
    # The CRM is told to erase.
    feed = client.get("/api/v1/feed", query_string={"cursor": captured["feed"]},
                      headers=world.headers("crm")).json["changes"]
    assert {"entity": "customer", "id": captured["id"], "op": "delete",
            "version": feed[-1]["version"], "reason": "erased"} in feed
    assert not any(secret in str(feed) for secret in SECRETS)
    # Webhook receivers got ids only, and are told of the erasure.
    session.close()
    events = {d.event for d in session.scalars(sa.select(WebhookDelivery))}
    assert {"customer.changed", "note.changed", "customer.erased"} <= events
    assert client.get(f"/api/v1/customers/{captured['id']}/contact-decision",
                      query_string={"purpose": "marketing", "channel": "email"},
                      headers=world.headers("crm")).json["allowed"] is False


def test_a_stale_offline_push_is_refused_but_a_withdrawal_recorded(client, world, captured):
    erase(client, world, captured["id"])
    stale = [
        mutation("customer", captured["id"], {"family_name": FAMILY}, base_version=1),
        mutation("request", fields={"customer_id": captured["id"], "type": "hold",
                                    "description": "Hold the veil"}),
        mutation("note", fields={"customer_id": captured["id"], "body": NOTE}),
        mutation("request", captured["request"], {"description": ASK}, base_version=1),
        mutation("consent", op="append", fields={
            "customer_id": captured["id"], "purpose": "marketing", "channel": "sms",
            "action": "grant", "notice_version_id": str(captured["notice"].id),
            "method": "associate_entry"}),
        mutation("consent", op="append", fields={
            "customer_id": captured["id"], "purpose": "marketing", "channel": "all",
            "action": "withdraw", "method": "associate_entry"}),
    ]
    results = push(client, world.tablet_a, stale)
    assert [r["status"] for r in results] == ["rejected"] * 5 + ["applied"]
    assert all("customer_id" in r["errors"] for r in results[:5])


def test_erasing_again_changes_nothing(client, world, captured):
    first = erase(client, world, captured["id"]).json
    again = erase(client, world, captured["id"]).json
    assert again["already"] is True and again["erased_at"] == first["erased_at"]
    assert erase(client, world, uuid.uuid4()).status_code == 404


def test_the_cli_erases(app, session, world, captured):
    result = CliRunner().invoke(app.cli, ["privacy", "erase", captured["id"]])
    assert result.exit_code == 0, result.output
    assert "2 notes deleted" in result.output
    session.close()
    assert erasure.still_holding(session, SECRETS) == []
