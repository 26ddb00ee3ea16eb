"""Notices and consent over HTTP and sync: what a grant must cite, who may record what,
erased customers, the sharing tier, and consent reaching the tablets that hold the customer."""

from __future__ import annotations

import uuid

import pytest
from click.testing import CliRunner

from server.consent.models import Notice
from server.core.types import utcnow
from server.customers.models import Customer
from server.stores.models import Store
from tests.factories import make_customer, make_notice, make_tablet, record_consent
from tests.sync.helpers import mutation, pull_all, push


def url(customer) -> str:
    return f"/api/v1/customers/{customer.id}/consents"


def grant_body(notice, purpose="marketing", channel="email", **extra) -> dict:
    return {"purpose": purpose, "channel": channel, "action": "grant",
            "notice_version_id": str(notice.id), "method": "customer_on_tablet"} | extra


@pytest.fixture
def ada(session, world):
    return make_customer(session, world.tablet_a.actor, given_name="Ada")


@pytest.fixture
def notice(session):
    return make_notice(session, purposes=("marketing.newsletter", "marketing.local_offers"),
                       channels=("email", "sms"))


@pytest.mark.parametrize(("body", "field"), [
    ({"notice_version_id": None}, "notice_version_id"),
    ({"notice_version_id": str(uuid.uuid4())}, "notice_version_id"),
    ({"purpose": "marketing"}, "purpose"),  # the notice covers two children, not all of it
    ({"purpose": "research"}, "purpose"),
    ({"channel": "post"}, "channel"),
    ({"channel": "all"}, "channel"),  # the notice does not cover every channel
    ({"expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at"),
    ({"purpose": "marketing.everything"}, "purpose"),
    ({"channel": "fax"}, "channel"),
    ({"method": "telepathy"}, "method"),
])
def test_a_grant_must_cite_a_notice_that_covers_it(client, world, ada, notice, body, field):
    response = client.post(url(ada), json=grant_body(notice, "marketing.newsletter") | body,
                           headers=world.tablet_a.headers)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_a_covered_grant_is_recorded_with_where_and_when(client, world, ada, notice):
    response = client.post(url(ada), json=grant_body(notice, "marketing.newsletter",
                                                     captured_by="A-117"),
                           headers=world.tablet_a.headers)
    assert response.status_code == 201, response.json
    event = response.json
    assert event["store_id"] == str(world.store_a.id)
    assert event["device_id"] == str(world.tablet_a.actor.device_id)
    assert event["notice_version_id"] == str(notice.id)
    assert event["captured_by"] == "A-117" and event["received_at"]
    summary = client.get(url(ada), headers=world.tablet_a.headers).json
    assert [(s["purpose"], s["channel"], s["status"], s["live"]) for s in summary["state"]] \
        == [("marketing.newsletter", "email", "grant", True)]


def test_a_grant_on_all_channels_needs_a_notice_for_all(client, session, world, ada):
    everywhere = make_notice(session, key="everywhere")
    response = client.post(url(ada), json=grant_body(everywhere, channel="all"),
                           headers=world.tablet_a.headers)
    assert response.status_code == 201, response.json


def test_refusals_need_no_notice_and_any_system_that_hears_one_records_it(client, world, ada):
    for scope in ("tablet", "crm", "channel", "admin"):
        response = client.post(url(ada), json={"purpose": "marketing", "channel": "email",
                                               "action": "withdraw",
                                               "method": "unsubscribe_link"},
                               headers=world.headers(scope))
        assert response.status_code == 201, (scope, response.json)
    events = client.get(url(ada), headers=world.tablet_a.headers).json["events"]
    assert [e["action"] for e in events] == ["withdraw"] * 4


def test_only_a_grant_expires(client, world, ada):
    response = client.post(url(ada), json={"purpose": "marketing", "channel": "email",
                                           "action": "withdraw", "method": "letter",
                                           "expires_at": "2030-01-01T00:00:00+00:00"},
                           headers=world.tablet_a.headers)
    assert response.status_code == 422
    assert "expires_at" in response.json["errors"]["json"]


def test_consent_events_cannot_be_edited_or_deleted_over_http(client, world, ada, notice):
    created = client.post(url(ada), json=grant_body(notice, "marketing.newsletter"),
                          headers=world.tablet_a.headers).json
    for method in ("PATCH", "PUT", "DELETE"):
        response = client.open(f"{url(ada)}/{created['id']}", method=method, json={},
                               headers=world.headers("admin"))
        assert response.status_code in (404, 405)
        response = client.open(url(ada), method=method, json={}, headers=world.headers("admin"))
        assert response.status_code == 405


def test_an_erased_customer_takes_refusals_but_no_new_grant(client, session, world, ada,
                                                            notice):
    session.get(Customer, ada.id).erased_at = utcnow()
    session.commit()
    granted = client.post(url(ada), json=grant_body(notice, "marketing.newsletter"),
                          headers=world.tablet_a.headers)
    assert granted.status_code == 410
    assert granted.json["code"] == "customer_erased"
    withdrawn = client.post(url(ada), json={"purpose": "marketing", "channel": "all",
                                            "action": "withdraw", "method": "letter"},
                            headers=world.tablet_a.headers)
    assert withdrawn.status_code == 201
    # An offline tablet's push: the grant is rejected for good, the withdrawal recorded.
    results = push(client, world.tablet_a, [
        mutation("consent", op="append", fields={
            "customer_id": str(ada.id), "purpose": "marketing.newsletter", "channel": "email",
            "action": "grant", "notice_version_id": str(notice.id),
            "method": "associate_entry"}),
        mutation("consent", op="append", fields={
            "customer_id": str(ada.id), "purpose": "marketing", "channel": "sms",
            "action": "withdraw", "method": "associate_entry"})])
    assert [r["status"] for r in results] == ["rejected", "applied"]
    assert "customer_id" in results[0]["errors"]


def consent_mutation(customer, notice, **fields):
    return mutation("consent", op="append", fields={
        "customer_id": str(customer.id), "purpose": "marketing.newsletter", "channel": "email",
        "action": "grant", "notice_version_id": str(notice.id),
        "method": "customer_on_tablet"} | fields)


def test_consent_over_sync_is_appended_once(client, world, ada, notice):
    grant = consent_mutation(ada, notice)
    first = push(client, world.tablet_a, [grant])
    again = push(client, world.tablet_a, [grant])
    assert first[0]["status"] == "applied" and first[0]["entity"] == "consent"
    assert again[0]["status"] == "duplicate" and again[0]["id"] == first[0]["id"]
    events = client.get(url(ada), headers=world.tablet_a.headers).json["events"]
    assert len(events) == 1
    assert events[0]["captured_by"] == "A-117"  # from the mutation's envelope
    # The same event id under a new mutation id is not a second event.
    copy = consent_mutation(ada, notice) | {"id": grant["id"]}
    assert push(client, world.tablet_a, [copy])[0]["status"] == "rejected"


@pytest.mark.parametrize(("entity", "op"), [("consent", "upsert"), ("consent", "delete"),
                                            ("customer", "append"), ("note", "append")])
def test_consent_is_append_only_and_append_is_for_consent(client, world, ada, notice,
                                                          entity, op):
    bad = consent_mutation(ada, notice) | {"entity": entity, "op": op}
    [result] = push(client, world.tablet_a, [bad])
    assert result["status"] == "rejected"
    assert "op" in result["errors"]


def test_consent_reaches_every_store_that_holds_the_customer(client, session, world, ada,
                                                             notice):
    _, cursor_a = pull_all(client, world.tablet_a)
    _, cursor_b = pull_all(client, world.tablet_b)
    [result] = push(client, world.tablet_a, [consent_mutation(ada, notice)])
    changes, _ = pull_all(client, world.tablet_a, cursor_a)
    assert [(c["entity"], c["id"]) for c in changes] == [("consent", result["id"])]
    # Store B does not hold Ada: nothing.
    assert pull_all(client, world.tablet_b, cursor_b)[0] == []
    # Once B holds her (after a lookup), B receives her and her consent history.
    client.post("/api/v1/sync/hold", json={"customer_ids": [str(ada.id)]},
                headers=world.tablet_b.headers)
    changes, cursor_b = pull_all(client, world.tablet_b, cursor_b)
    assert sorted(c["entity"] for c in changes) == ["consent", "customer"]
    # ...and every later event, wherever it was captured.
    record_consent(session, world.tablet_a.actor, ada, "marketing", "sms", "withdraw")
    changes, _ = pull_all(client, world.tablet_b, cursor_b)
    assert [(c["entity"], c["record"]["action"]) for c in changes] == [("consent", "withdraw")]


def test_notices_reach_every_tablet_even_of_a_store_opened_later(client, session, world,
                                                                 notice):
    for tablet in (world.tablet_a, world.tablet_b):
        changes, _ = pull_all(client, tablet)
        assert [(c["entity"], c["record"]["number"]) for c in changes
                if c["entity"] == "notice"] == [("notice", 1)]
    response = client.post("/api/v1/stores", json={"code": "NEW-1", "name": "New",
                                                   "country": "GB", "timezone": "Europe/London"},
                           headers=world.headers("admin"))
    tablet = make_tablet(session, session.get(Store, uuid.UUID(response.json["id"])))
    session.commit()
    changes, _ = pull_all(client, tablet)
    assert [c["id"] for c in changes if c["entity"] == "notice"] == [str(notice.id)]


def test_publishing_numbers_versions_per_key_and_language(client, world):
    body = {"key": "offers", "language": "en", "title": "Offers", "text": "Offers by email.",
            "value_exchange": "Your email gets you early access.",
            "purposes": ["marketing"], "channels": ["email"]}
    numbers = [client.post("/api/v1/notices", json=body | extra,
                           headers=world.headers("admin")).json["number"]
               for extra in ({}, {}, {"language": "fr"})]
    assert numbers == [1, 2, 1]
    listed = client.get("/api/v1/notices", query_string={"key": "offers", "language": "en"},
                        headers=world.tablet_a.headers).json["items"]
    assert [n["number"] for n in listed] == [1, 2]


def test_a_version_that_asks_again_retires_earlier_grants(client, session, world, ada):
    first = make_notice(session, key="offers", channels=("email",))
    record_consent(session, world.tablet_a.actor, ada, notice=first)
    decision = client.get(f"/api/v1/customers/{ada.id}/contact-decision",
                          query_string={"purpose": "marketing", "channel": "email"},
                          headers=world.tablet_a.headers).json
    assert decision["allowed"] is True
    make_notice(session, key="offers", channels=("email",), requires_reconsent=True)
    decision = client.get(f"/api/v1/customers/{ada.id}/contact-decision",
                          query_string={"purpose": "marketing", "channel": "email"},
                          headers=world.tablet_a.headers).json
    assert decision["allowed"] is False
    assert "reconsent_required" in {r["code"] for r in decision["reasons"]}
    state = client.get(url(ada), headers=world.tablet_a.headers).json["state"]
    assert state[0]["live"] is False


def test_the_sharing_tier_follows_what_the_customer_chose_to_share(client, session, world,
                                                                   ada):
    def sharing():
        return client.get(url(ada), headers=world.tablet_a.headers).json["sharing"]

    basic = sharing()
    assert basic["tier"] == "basic"
    assert "Updates about your requests, on the channels you choose" in basic["benefits"]
    assert set(basic["unlock"]) == {"enhanced", "full"}
    client.patch(f"/api/v1/customers/{ada.id}",
                 json={"preferences": {"sizes": ["M"], "rewards": ["early_access"]}},
                 headers=world.tablet_a.headers)
    enhanced = sharing()
    assert enhanced["tier"] == "enhanced"
    assert enhanced["rewards_asked_for"] == ["early_access"]
    assert set(basic["benefits"]) < set(enhanced["benefits"])  # the base service stays
    notice = make_notice(session, key="picks", purposes=("personalisation",))
    record_consent(session, world.tablet_a.actor, ada, "personalisation", "all",
                   notice=notice)
    full = sharing()
    assert full["tier"] == "full" and full["unlock"] == {}


def test_the_cli_publishes_a_notice_and_prints_its_id(app, session, tmp_path):
    text = tmp_path / "notice.txt"
    text.write_text("We would like to text you about offers in your store.", encoding="utf-8")
    result = CliRunner().invoke(app.cli, [
        "notices", "publish", "--key", "local", "--language", "en-GB", "--title", "Local offers",
        "--text-file", str(text), "--value-exchange", "Your number gets you first pick.",
        "--purpose", "marketing.local_offers", "--channel", "sms"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    notice_id = result.output.strip().splitlines()[-1]
    notice = session.get(Notice, uuid.UUID(notice_id))
    assert notice.channels == ["sms"] and notice.text.startswith("We would like")
    bad = CliRunner().invoke(app.cli, [
        "notices", "publish", "--key", "local", "--language", "en-GB", "--title", "x",
        "--text-file", str(text), "--value-exchange", "y", "--purpose", "nonsense",
        "--channel", "sms"])
    assert bad.exit_code != 0 and "purposes" in bad.output
