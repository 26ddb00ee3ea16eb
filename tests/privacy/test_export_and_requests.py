"""The access export (JSON and a readable page), and privacy requests with their due dates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from server.contact import followups
from server.extensions import db
from server.privacy.datamap import HELD, NOT_EXPORTED
from server.privacy.models import PrivacyRequest
from server.privacy.privacy_requests import one_month_after
from tests.factories import (
    ADMIN,
    make_customer,
    make_note,
    make_notice,
    make_request,
    record_consent,
)


def test_every_table_naming_a_customer_is_exported_or_says_why_not(app):
    naming = {t.name for t in db.metadata.sorted_tables
              if "customer_id" in t.c or any(fk.column.table.name == "customers"
                                             for fk in t.foreign_keys)}
    covered = {h.table for h in HELD} | set(NOT_EXPORTED)
    assert naming - covered == set(), "add it to datamap.HELD or NOT_EXPORTED"


@pytest.fixture
def ada(session, world):
    ada = make_customer(session, world.tablet_a.actor, given_name="Ada",
                        email="ada@example.com", phone="+447911123456",
                        preferences={"sizes": ["M"], "rewards": ["early_access"]})
    request = make_request(session, world.tablet_a.actor, ada, notify_channels=["sms"])
    make_note(session, world.tablet_a.actor, ada, body="Likes <b>navy</b> <script>x</script>")
    notice = make_notice(session, title="Offers for you", text="We would like to text you.")
    record_consent(session, world.tablet_a.actor, ada, "marketing", "sms", notice=notice)
    followups.create(session, ADMIN, ada.id, "research", "survey-12")  # no grant: suppressed
    session.commit()
    return ada, request


def export(client, world, customer, **query):
    return client.get(f"/api/v1/customers/{customer.id}/export", query_string=query,
                      headers=world.headers("admin"))


def test_the_export_holds_everything_about_the_customer(client, world, ada):
    customer, request = ada
    response = export(client, world, customer)
    assert response.status_code == 200
    sections = response.json["sections"]
    assert sections["profile"][0]["email"] == "ada@example.com"
    assert "name_key" not in sections["profile"][0]  # internal search keys stay out
    assert [r["id"] for r in sections["requests"]] == [str(request.id)]
    assert [h["to_status"] for h in sections["request_history"]] == ["open"]
    assert "navy" in sections["notes"][0]["body"]
    assert [e["action"] for e in sections["consent_events"]] == ["grant"]
    assert sections["notices_shown"][0]["text"] == "We would like to text you."
    assert sections["consent_state"][0]["live"] is True
    assert sections["sharing"]["tier"] == "enhanced"
    [suppressed] = sections["follow_ups"]
    assert suppressed["status"] == "suppressed"
    assert "no_grant" in {r["code"] for r in suppressed["reasons"]}
    assert [s["code"] for s in sections["stores"]] == [world.store_a.code]
    assert response.json["purposes"]["marketing"]


def test_the_export_reads_as_a_page_for_the_customer(client, world, ada):
    customer, _ = ada
    for response in (export(client, world, customer, format="html"),
                     client.get(f"/api/v1/customers/{customer.id}/export",
                                headers=world.headers("admin") | {"Accept": "text/html"})):
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        page = response.get_data(as_text=True)
        assert "What Blackbook holds about you" in page
        assert "We would like to text you." in page and "ada@example.com" in page
        assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_only_the_privacy_officer_exports(client, world, ada):
    customer, _ = ada
    for scope in ("tablet", "crm", "channel"):
        response = client.get(f"/api/v1/customers/{customer.id}/export",
                              headers=world.headers(scope))
        assert response.status_code == 403


@pytest.mark.parametrize(("received", "due"), [
    (datetime(2026, 11, 23, 10, tzinfo=UTC), datetime(2026, 12, 23, 10, tzinfo=UTC)),
    (datetime(2026, 12, 15, tzinfo=UTC), datetime(2027, 1, 15, tzinfo=UTC)),
    (datetime(2027, 1, 31, tzinfo=UTC), datetime(2027, 2, 28, tzinfo=UTC)),
    (datetime(2028, 1, 31, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
])
def test_a_request_is_due_one_calendar_month_later(received, due):
    assert one_month_after(received) == due


def test_an_erasure_request_is_announced_then_carried_out(client, session, world, ada):
    customer, _ = ada
    cursor = client.get("/api/v1/feed", headers=world.headers("crm")).json["next_cursor"]
    created = client.post("/api/v1/privacy-requests", headers=world.headers("admin"),
                          json={"customer_id": str(customer.id), "kind": "erasure"})
    assert created.status_code == 201
    again = client.post("/api/v1/privacy-requests", headers=world.headers("admin"),
                        json={"customer_id": str(customer.id), "kind": "erasure"})
    assert again.json["id"] == created.json["id"]  # one open request of a kind
    announced = client.get("/api/v1/feed", query_string={"cursor": cursor},
                           headers=world.headers("crm")).json
    [change] = announced["changes"]
    assert (change["id"], change["op"], change["reason"]) == (
        str(customer.id), "upsert", "erasure_requested")
    listed = client.get("/api/v1/privacy-requests", query_string={"status": "open"},
                        headers=world.headers("admin")).json["items"]
    assert [r["id"] for r in listed] == [created.json["id"]]
    done = client.post(f"/api/v1/privacy-requests/{created.json['id']}/complete", json={},
                       headers=world.headers("admin"))
    assert done.status_code == 200 and done.json["status"] == "completed"
    erased = client.get("/api/v1/feed", query_string={"cursor": announced["next_cursor"]},
                        headers=world.headers("crm")).json["changes"]
    assert {(c["entity"], c["op"], c.get("reason")) for c in erased} >= {
        ("customer", "delete", "erased")}
    twice = client.post(f"/api/v1/privacy-requests/{created.json['id']}/complete", json={},
                        headers=world.headers("admin"))
    assert twice.status_code == 409


def test_overdue_requests_are_listed(client, session, world, ada):
    customer, _ = ada
    client.post("/api/v1/privacy-requests", headers=world.headers("admin"),
                json={"customer_id": str(customer.id), "kind": "access"})
    assert client.get("/api/v1/privacy-requests", query_string={"overdue": "true"},
                      headers=world.headers("admin")).json["items"] == []
    session.execute(sa.update(PrivacyRequest).values(
        due_at=datetime(2026, 1, 1, tzinfo=UTC)))
    session.commit()
    overdue = client.get("/api/v1/privacy-requests", query_string={"overdue": "true"},
                         headers=world.headers("admin")).json["items"]
    assert [r["kind"] for r in overdue] == ["access"]
