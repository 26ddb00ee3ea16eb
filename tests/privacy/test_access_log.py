"""The access log: who touched a customer's data, by every path, never the data itself."""

from __future__ import annotations

import sqlalchemy as sa

from server.audit.models import AccessEntry
from server.extensions import db
from tests.factories import make_customer, make_note, make_request
from tests.sync.helpers import mutation, pull_all, push


def log_of(client, world, customer_id) -> list[tuple[str, str, str]]:
    items = client.get(f"/api/v1/customers/{customer_id}/access-log",
                       query_string={"limit": 200}, headers=world.headers("admin")).json["items"]
    return [(i["action"], i["what"], i["scope"]) for i in items]


def test_every_way_in_is_logged(client, session, world):
    ada = make_customer(session, world.tablet_a.actor, given_name="Adelaide",
                        email="adelaide@example.com")
    note = make_note(session, world.tablet_a.actor, ada)
    make_request(session, world.tablet_a.actor, ada)
    tablet, crm = world.tablet_a.headers, world.headers("crm")
    client.get(f"/api/v1/customers/{ada.id}", headers=tablet)
    client.get("/api/v1/customers", query_string={"name": "Adel"}, headers=tablet)
    client.patch(f"/api/v1/customers/{ada.id}", json={"family_name": "B"}, headers=tablet)
    client.get(f"/api/v1/notes/{note.id}", headers=tablet)
    client.get("/api/v1/requests", query_string={"customer_id": str(ada.id)}, headers=crm)
    client.get(f"/api/v1/customers/{ada.id}/consents", headers=crm)
    client.get(f"/api/v1/customers/{ada.id}/contact-options",
               query_string={"purpose": "marketing"}, headers=crm)
    client.get("/api/v1/feed", headers=crm)
    pull_all(client, world.tablet_a)
    push(client, world.tablet_a, [mutation("customer", ada.id, {"family_name": "C"},
                                           base_version=2)])
    client.get(f"/api/v1/customers/{ada.id}/export", headers=world.headers("admin"))
    logged = set(log_of(client, world, ada.id))
    assert logged >= {
        ("read", "customer", "tablet"), ("search", "customer lookup", "tablet"),
        ("change", "customer", "tablet"), ("read", "note", "tablet"),
        ("search", "requests", "crm"), ("read", "consent", "crm"),
        ("read", "contact options", "crm"), ("read", "crm feed", "crm"),
        ("read", "sync pull", "tablet"), ("change", "sync push", "tablet"),
        ("export", "access export", "admin")}


def test_the_log_holds_no_personal_data(client, session, world):
    ada = make_customer(session, world.tablet_a.actor, given_name="Adelaide",
                        email="adelaide@example.com")
    client.get(f"/api/v1/customers/{ada.id}", headers=world.tablet_a.headers)
    rows = session.execute(sa.select(AccessEntry.__table__)).mappings().all()
    assert rows
    text = str([dict(r) for r in rows])
    assert "Adelaide" not in text and "adelaide@example.com" not in text
    assert {c.name for c in db.metadata.tables["access_log"].columns} == {
        "id", "customer_id", "customer_ids", "action", "what", "scope", "key_id", "store_id",
        "device_id", "at"}


def test_the_export_shows_who_accessed(client, session, world):
    ada = make_customer(session, world.tablet_a.actor)
    client.get(f"/api/v1/customers/{ada.id}", headers=world.headers("crm"))
    sections = client.get(f"/api/v1/customers/{ada.id}/export",
                          headers=world.headers("admin")).json["sections"]
    assert ("read", "customer", "crm") in {(e["action"], e["what"], e["scope"])
                                           for e in sections["who_accessed"]}


def test_a_feed_page_logs_each_customer_it_carries_once(client, session, world):
    # One entry for the page, naming each of its customers once.
    people = [make_customer(session, world.tablet_a.actor) for _ in range(30)]
    crm = world.headers("crm")
    page = client.get("/api/v1/feed", query_string={"limit": 1000}, headers=crm)
    assert page.status_code == 200 and len(page.json["changes"]) == 30  # the body read
    [entry] = session.execute(sa.select(AccessEntry).where(AccessEntry.what == "crm feed")
                              ).scalars()
    assert (entry.action, entry.scope, entry.key_id is not None, entry.at.tzinfo is not None) == (
        "read", "crm", True, True)
    assert sorted(entry.customers) == sorted(p.id for p in people)
    assert all(("read", "crm feed", "crm") in log_of(client, world, p.id) for p in people)
