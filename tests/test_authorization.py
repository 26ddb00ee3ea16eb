"""The authorization matrix: every API endpoint × every caller, from one table.

Each row names an endpoint, the permission it needs and the status an allowed caller
gets; what every scope should get follows from `server.stores.permissions.PERMISSIONS`.
A refused scope gets 403 `forbidden`, a call without a key or with a revoked key 401
`unauthorized`, and a refused call changes nothing. The table must cover every route
in `app.url_map`, so an endpoint added without a row fails here.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from flask import current_app

from server.audit.models import AccessEntry
from server.changelog.models import Change
from server.contact import followups
from server.contact.models import FollowUp
from server.customer_requests import service as requests
from server.privacy import erasure, privacy_requests
from server.privacy.models import ErasurePropagation, PrivacyRequest
from server.stores import keys
from server.stores.permissions import PERMISSIONS
from server.webhooks import service as webhooks
from server.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import (
    ADMIN,
    World,
    bearer,
    make_customer,
    make_note,
    make_notice,
    make_request,
)

SCOPES = ("tablet", "crm", "channel", "admin")
CALLERS = (*SCOPES, "no key", "revoked tablet key", "revoked admin key")
NOT_CHECKED = {"/api/v1/openapi.json"}  # public, like the docs pages under /api/v1/docs/
PROBLEM = "application/problem+json"

_codes = itertools.count(1)


@dataclass
class Ids:
    """Real records, made by store A's tablet, that the paths and bodies point at."""

    store_id: uuid.UUID
    other_store_id: uuid.UUID
    customer_id: uuid.UUID
    request_id: uuid.UUID
    note_id: uuid.UUID
    device_id: uuid.UUID  # store A's tablet
    other_customer_id: uuid.UUID  # made by store B's tablet, so not yet held by store A
    notice_id: uuid.UUID
    follow_up_id: uuid.UUID  # a request ready, its follow-up claimed by the sms key
    claim_id: uuid.UUID
    webhook_id: uuid.UUID  # subscribed to everything before the records above were made
    privacy_request_id: uuid.UUID  # an access request for the customer
    erasable_customer_id: uuid.UUID  # with a request and a note, for the erasure endpoint
    erased_customer_id: uuid.UUID  # erased already: the CRM acknowledges it

    def path_values(self) -> dict[str, str]:
        return {"store_id": str(self.store_id), "customer_id": str(self.customer_id),
                "request_id": str(self.request_id), "note_id": str(self.note_id),
                "notice_id": str(self.notice_id), "follow_up_id": str(self.follow_up_id),
                "webhook_id": str(self.webhook_id),
                "privacy_request_id": str(self.privacy_request_id)}


def make_ids(session, world: World) -> Ids:
    hook, _ = webhooks.create(session, ADMIN, {"url": "https://crm.example.com/hooks",
                                               "events": ["*"]},
                              master_key=current_app.config["SECRET_KEY"],
                              default_max_attempts=8)
    customer = make_customer(session, world.tablet_a.actor, given_name="Ada")
    request = make_request(session, world.tablet_a.actor, customer)
    note = make_note(session, world.tablet_a.actor, customer, request_id=request.id)
    other = make_customer(session, world.tablet_b.actor, given_name="Bea")
    notice = make_notice(session)
    texted = make_customer(session, world.tablet_a.actor, phone="+447911123456")
    for _ in range(2):  # one claimed here, one left for the claim endpoint
        ready = make_request(session, world.tablet_a.actor, texted, notify_channels=["sms"])
        requests.transition(session, world.tablet_a.actor, ready.id, "ready", None, None)
        session.commit()
    [task] = followups.claim(session, keys.authenticate(session, world.tokens["channel"]),
                             1, 60)
    access = privacy_requests.receive(session, ADMIN, customer.id, "access")
    erased = make_customer(session, world.tablet_a.actor, given_name="Ezra")
    erasure.erase(session, ADMIN, erased.id)
    erasable = make_customer(session, world.tablet_a.actor, given_name="Erin")
    make_note(session, world.tablet_a.actor, erasable,
              request_id=make_request(session, world.tablet_a.actor, erasable).id)
    session.commit()
    return Ids(world.store_a.id, world.store_b.id, customer.id, request.id, note.id,
               world.tablet_a.actor.device_id, other.id, notice.id, task["id"],
               task["claim_id"], hook.id, access.id, erasable.id, erased.id)


def _push_body(ids: Ids) -> dict[str, Any]:
    mutation = {"mutation_id": str(uuid.uuid4()), "entity": "customer", "op": "upsert",
                "id": str(uuid.uuid4()), "fields": {"given_name": "Grace"}}
    return {"device_id": str(ids.device_id), "mutations": [mutation]}


def _store_body(ids: Ids) -> dict[str, Any]:
    return {"code": f"T-{next(_codes):03d}", "name": "Test store", "country": "GB",
            "timezone": "Europe/London"}


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with {name} placeholders, filled from Ids
    permission: str
    allowed_status: int  # what a scope holding the permission gets
    body: Callable[[Ids], dict[str, Any]] | None = None
    query: dict[str, str] = field(default_factory=dict)
    # A destructive call gets records of its own, so the others' stay whole.
    values: Callable[[Ids], dict[str, str]] | None = None

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    def path_values(self, ids: Ids) -> dict[str, str]:
        return ids.path_values() | (self.values(ids) if self.values else {})

    def url(self, ids: Ids) -> str:
        return self.path.format(**self.path_values(ids))


# Every endpoint, with a call that an allowed scope carries out successfully.
ROWS: tuple[Row, ...] = (
    Row("GET", "/api/v1/me", "me:read", 200),
    Row("GET", "/api/v1/stores", "stores:read", 200),
    Row("POST", "/api/v1/stores", "stores:write", 201, _store_body),
    Row("GET", "/api/v1/stores/{store_id}", "stores:read", 200),
    # A tablet must give criteria (without, it gets 403; see the test below).
    Row("GET", "/api/v1/customers", "customers:read", 200, query={"name": "Ada"}),
    Row("POST", "/api/v1/customers", "customers:write", 201,
        lambda ids: {"given_name": "Grace", "family_name": "Hopper"}),
    Row("GET", "/api/v1/customers/{customer_id}", "customers:read", 200),
    Row("PATCH", "/api/v1/customers/{customer_id}", "customers:write", 200,
        lambda ids: {"family_name": "Byron"}),
    Row("POST", "/api/v1/customers/{customer_id}/merge", "customers:merge", 200,
        lambda ids: {"into": str(ids.customer_id)},
        values=lambda ids: {"customer_id": str(ids.other_customer_id)}),
    Row("GET", "/api/v1/requests", "requests:read", 200),
    Row("POST", "/api/v1/requests", "requests:write", 201,
        lambda ids: {"customer_id": str(ids.customer_id), "store_id": str(ids.store_id),
                     "type": "hold", "description": "Coat until Saturday"}),
    Row("GET", "/api/v1/requests/{request_id}", "requests:read", 200),
    Row("PATCH", "/api/v1/requests/{request_id}", "requests:write", 200,
        lambda ids: {"size": "39"}),
    Row("POST", "/api/v1/requests/{request_id}/status", "requests:write", 200,
        lambda ids: {"status": "in_progress"}),
    Row("GET", "/api/v1/notes", "notes:read", 200),
    Row("POST", "/api/v1/notes", "notes:write", 201,
        lambda ids: {"customer_id": str(ids.customer_id), "request_id": str(ids.request_id),
                     "body": "Will call back on Friday"}),
    Row("GET", "/api/v1/notes/{note_id}", "notes:read", 200),
    Row("PATCH", "/api/v1/notes/{note_id}", "notes:write", 200,
        lambda ids: {"body": "Will call back on Monday"}),
    Row("DELETE", "/api/v1/notes/{note_id}", "notes:write", 204),
    Row("GET", "/api/v1/notices", "notices:read", 200),
    Row("POST", "/api/v1/notices", "notices:write", 201,
        lambda ids: {"key": "newsletter", "language": "en", "title": "Our newsletter",
                     "text": "Monthly news.", "value_exchange": "Your email: our news.",
                     "purposes": ["marketing.newsletter"], "channels": ["email"]}),
    Row("GET", "/api/v1/notices/{notice_id}", "notices:read", 200),
    Row("GET", "/api/v1/customers/{customer_id}/consents", "consents:read", 200),
    # Refusals are for everyone who may hear one; grants need consents:write (below).
    Row("POST", "/api/v1/customers/{customer_id}/consents", "consents:withdraw", 201,
        lambda ids: {"purpose": "marketing", "channel": "email", "action": "withdraw",
                     "method": "unsubscribe_link"}),
    Row("GET", "/api/v1/customers/{customer_id}/contact-decision", "contact:read", 200,
        query={"purpose": "marketing", "channel": "email"}),
    Row("GET", "/api/v1/customers/{customer_id}/contact-options", "contact:read", 200,
        query={"purpose": "marketing"}),
    Row("GET", "/api/v1/follow-ups", "followups:read", 200),
    Row("POST", "/api/v1/follow-ups", "followups:write", 201,
        lambda ids: {"customer_id": str(ids.customer_id), "purpose": "service.request_update",
                     "request_id": str(ids.request_id), "topic": "boots-arrived"}),
    Row("POST", "/api/v1/follow-ups/claim", "followups:work", 200, lambda ids: {}),
    Row("POST", "/api/v1/follow-ups/{follow_up_id}/outcome", "followups:work", 200,
        lambda ids: {"claim_id": str(ids.claim_id), "outcome": "sent"}),
    Row("POST", "/api/v1/sync/push", "sync:push", 200, _push_body),
    Row("POST", "/api/v1/sync/hold", "sync:push", 200,
        lambda ids: {"customer_ids": [str(ids.other_customer_id)]}),
    Row("GET", "/api/v1/sync/pull", "sync:pull", 200),
    Row("GET", "/api/v1/feed", "feed:read", 200),
    Row("POST", "/api/v1/customers/{customer_id}/erasure", "privacy:erase", 200,
        lambda ids: {}, values=lambda ids: {"customer_id": str(ids.erasable_customer_id)}),
    Row("GET", "/api/v1/customers/{customer_id}/export", "privacy:export", 200),
    Row("GET", "/api/v1/customers/{customer_id}/access-log", "privacy:export", 200),
    Row("GET", "/api/v1/erasures", "privacy:export", 200),
    Row("POST", "/api/v1/customers/{customer_id}/erasure/ack", "feed:read", 200,
        lambda ids: {}, values=lambda ids: {"customer_id": str(ids.erased_customer_id)}),
    Row("POST", "/api/v1/customers/{customer_id}/page-link", "customers:write", 201,
        lambda ids: {}),
    Row("GET", "/api/v1/privacy-requests", "privacy:export", 200),
    Row("POST", "/api/v1/privacy-requests", "privacy:export", 201,
        lambda ids: {"customer_id": str(ids.customer_id), "kind": "erasure"}),
    Row("POST", "/api/v1/privacy-requests/{privacy_request_id}/complete", "privacy:erase",
        200, lambda ids: {}),
    Row("GET", "/api/v1/webhooks", "webhooks:admin", 200),
    Row("POST", "/api/v1/webhooks", "webhooks:admin", 201,
        lambda ids: {"url": "https://crm.example.com/other", "events": ["request.changed"]}),
    Row("GET", "/api/v1/webhooks/{webhook_id}", "webhooks:admin", 200),
    Row("DELETE", "/api/v1/webhooks/{webhook_id}", "webhooks:admin", 204),
    Row("GET", "/api/v1/webhooks/{webhook_id}/deliveries", "webhooks:admin", 200),
    Row("POST", "/api/v1/webhooks/{webhook_id}/replay", "webhooks:admin", 200,
        lambda ids: {"from_seq": 0}),
)


def api_endpoints(app) -> set[tuple[str, str]]:
    """(method, path with {placeholders}) for every rule under /api/v1 but the docs."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in NOT_CHECKED \
                or rule.rule.startswith("/api/v1/docs"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        found.update((method, path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return found


def expected_status(row: Row, caller: str) -> int:
    if caller not in SCOPES:
        return 401
    return row.allowed_status if caller in PERMISSIONS[row.permission] else 403


def headers_for(session, world: World, caller: str) -> dict[str, str]:
    if caller == "no key":
        return {}
    if caller.startswith("revoked"):
        token = world.tablet_a.token if "tablet" in caller else world.tokens["admin"]
        keys.revoke(session, token.split("_")[1])
        session.commit()
        return bearer(token)
    return bearer(world.tokens[caller])


def call(client, row: Row, ids: Ids, headers: dict[str, str]):
    body = row.body(ids) if row.body else None
    return client.open(row.url(ids), method=row.method, json=body,
                       query_string=row.query, headers=headers)


def change_count(session) -> tuple[int, int, int]:
    """What a write leaves behind: changes logged, follow-up tasks made or moved
    (follow-ups are the channel systems' work queue, not in the change log), webhook
    subscriptions and deliveries, privacy requests and access-log entries, made or moved
    (nor are they)."""
    count = session.scalar(sa.select(sa.func.count()).select_from(Change))
    tasks = session.scalar(sa.select(sa.func.count() + sa.func.coalesce(
        sa.func.sum(FollowUp.version), 0)))
    hooks = sum(session.scalar(sa.select(sa.func.count() + sa.func.coalesce(
        sa.func.sum(model.version), 0))) for model in (WebhookSubscription, WebhookDelivery,
                                                       PrivacyRequest))
    hooks += session.scalar(sa.select(sa.func.count()).select_from(AccessEntry))
    hooks += session.scalar(sa.select(sa.func.count()).select_from(ErasurePropagation).where(
        ErasurePropagation.acknowledged_at.is_not(None)))
    session.close()
    return count, tasks, hooks


def assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    assert response.json["status"] == status
    assert response.json["code"] == code
    assert response.json["title"]


def test_the_table_covers_every_endpoint(app):
    rows = [(row.method, row.path) for row in ROWS]
    assert len(rows) == len(set(rows)), "an endpoint has two rows"
    missing = api_endpoints(app) - set(rows)
    assert not missing, f"endpoints without a row in ROWS: {sorted(missing)}"
    stale = set(rows) - api_endpoints(app)
    assert not stale, f"rows for endpoints that do not exist: {sorted(stale)}"


def test_the_permission_table_is_the_documented_one():
    """The matrix takes its expectations from PERMISSIONS, so this pins PERMISSIONS to the
    scopes the README documents (sync: tablets only): widening what a key may do takes a
    deliberate change in both places."""
    documented = {
        "me:read": {"tablet", "crm", "channel", "admin"},
        "stores:read": {"tablet", "crm", "admin"}, "stores:write": {"admin"},
        "customers:read": {"tablet", "crm", "admin"}, "customers:write": {"tablet", "admin"},
        "customers:merge": {"admin"},
        "requests:read": {"tablet", "crm", "admin"}, "requests:write": {"tablet", "admin"},
        "notes:read": {"tablet", "crm", "admin"}, "notes:write": {"tablet", "admin"},
        "notices:read": {"tablet", "crm", "channel", "admin"}, "notices:write": {"admin"},
        "consents:read": {"tablet", "crm", "admin"},
        "consents:write": {"tablet", "admin"},
        "consents:withdraw": {"tablet", "crm", "channel", "admin"},
        "contact:read": {"tablet", "crm", "channel", "admin"},
        "followups:read": {"crm", "admin"}, "followups:write": {"crm", "admin"},
        "followups:work": {"channel"}, "feed:read": {"crm"},
        "privacy:erase": {"admin"}, "privacy:export": {"admin"},
        "webhooks:admin": {"admin"},
        "sync:push": {"tablet"}, "sync:pull": {"tablet"},
    }
    assert {name: set(scopes) for name, scopes in PERMISSIONS.items()} == documented


def test_every_row_names_a_known_permission():
    # Every permission in the table is exercised by some endpoint (or by the service
    # behind one, tested below), and no row names one the table does not have.
    assert {row.permission for row in ROWS} | CHECKED_BY_SERVICES == set(PERMISSIONS)


# Checked inside a service, for part of what an endpoint takes: a grant or a denial
# (consents:write) goes through the same endpoint as a withdrawal (consents:withdraw).
CHECKED_BY_SERVICES = {"consents:write"}


@pytest.mark.parametrize("caller", SCOPES)
def test_only_tablets_and_admin_record_a_grant(client, session, world, caller):
    ids = make_ids(session, world)
    body = {"purpose": "marketing", "channel": "email", "action": "grant",
            "notice_version_id": str(ids.notice_id), "method": "associate_entry"}
    response = client.post(f"/api/v1/customers/{ids.customer_id}/consents", json=body,
                           headers=bearer(world.tokens[caller]))
    if caller in PERMISSIONS["consents:write"]:
        assert response.status_code == 201, response.json
    else:
        assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.id)
def test_authorization_matrix(client, session, world, row, caller):
    ids = make_ids(session, world)
    headers = headers_for(session, world, caller)
    before = change_count(session)

    response = call(client, row, ids, headers)

    expected = expected_status(row, caller)
    if expected == 401:
        assert_problem(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    elif expected == 403:
        assert_problem(response, 403, "forbidden")
    else:
        assert response.status_code == expected, response.get_data(as_text=True)
        if expected != 204:
            assert response.mimetype == "application/json"
    if expected in (401, 403):
        assert change_count(session) == before, "a refused call changed something"
    elif row.method != "GET":
        after = change_count(session)
        assert any(a > b for a, b in zip(after, before, strict=True)) \
            or row.path == "/api/v1/stores"


def test_a_tablet_must_say_whom_it_looks_for(client, world):
    response = client.get("/api/v1/customers", headers=world.tablet_a.headers)
    assert_problem(response, 403, "forbidden")
    for scope in ("crm", "admin"):
        assert client.get("/api/v1/customers", headers=world.headers(scope)).status_code == 200


@pytest.mark.parametrize("name", ["\u0301", "\u0301\u0308\u0327", "e\u0301"])
def test_a_tablet_cannot_list_every_customer_with_a_name_of_accents_only(client, session,
                                                                         world, name):
    """"\u0301" (a lone accent) is not blank, but folds to nothing: as a name prefix it
    would match every customer, in every store."""
    make_customer(session, world.tablet_b.actor, given_name="Zed", family_name="Other")
    mine = make_customer(session, world.tablet_a.actor, given_name="Éva", family_name="Szabó")
    response = client.get("/api/v1/customers", headers=world.tablet_a.headers,
                          query_string={"name": name})
    if name.startswith("e"):  # a letter with its accent is a real prefix
        assert listed_ids(client, "/api/v1/customers", world.tablet_a.headers, name=name) \
            == {str(mine.id)}
    else:
        assert_problem(response, 422, "validation_failed")
        assert response.json["errors"] == {"query": {"name": [
            "Give a letter or digit of the name."]}}


def test_a_revoked_key_stays_refused_and_other_keys_keep_working(client, session, world):
    headers = headers_for(session, world, "revoked tablet key")
    assert_problem(client.get("/api/v1/me", headers=headers), 401, "unauthorized")
    assert client.get("/api/v1/me", headers=world.tablet_b.headers).status_code == 200


@pytest.mark.parametrize("authorization", [
    "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "bb_abc_def", "Bearer bb_nope_nope",
    "Bearer not-a-blackbook-key", "Bearer bb_" + "x" * 10_000,
])
def test_a_bad_authorization_header_is_401(client, world, authorization):
    assert_problem(client.get("/api/v1/me", headers={"Authorization": authorization}),
                   401, "unauthorized")


# --- Store isolation -------------------------------------------------------------------


@pytest.fixture
def two_stores(session, world):
    """A customer with a request and a note in each store (each made by that store)."""
    customer = make_customer(session, world.tablet_a.actor)
    request_a = make_request(session, world.tablet_a.actor, customer, description="A's")
    request_b = make_request(session, world.tablet_b.actor, customer, description="B's")
    note_a = make_note(session, world.tablet_a.actor, customer, request_id=request_a.id)
    note_b = make_note(session, world.tablet_b.actor, customer, request_id=request_b.id)
    return customer, request_a, request_b, note_a, note_b


def listed_ids(client, url: str, headers, **query) -> set[str]:
    response = client.get(url, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["id"] for item in response.json["items"]}


def test_a_tablet_cannot_reach_another_stores_request_or_note(client, world, two_stores):
    _, request_a, request_b, note_a, note_b = two_stores
    tablet = world.tablet_a.headers
    for url in (f"/api/v1/requests/{request_b.id}", f"/api/v1/notes/{note_b.id}"):
        assert_problem(client.get(url, headers=tablet), 404, "not_found")
        assert client.get(url, headers=world.tablet_b.headers).status_code == 200
    # Writes miss too, and leave B's records as they were.
    attempts = [
        ("PATCH", f"/api/v1/requests/{request_b.id}", {"size": "44"}),
        ("POST", f"/api/v1/requests/{request_b.id}/status", {"status": "ready"}),
        ("PATCH", f"/api/v1/notes/{note_b.id}", {"body": "overwritten"}),
        ("DELETE", f"/api/v1/notes/{note_b.id}", None),
    ]
    for method, url, body in attempts:
        assert_problem(client.open(url, method=method, json=body, headers=tablet),
                       404, "not_found")
    record = client.get(f"/api/v1/requests/{request_b.id}", headers=world.tablet_b.headers)
    assert (record.json["size"], record.json["status"], record.json["version"]) == \
        ("38", "open", 1)
    note = client.get(f"/api/v1/notes/{note_b.id}", headers=world.tablet_b.headers)
    assert (note.json["body"], note.json["version"]) == (note_b.body, 1)
    # Its own store's are reachable.
    assert client.get(f"/api/v1/requests/{request_a.id}", headers=tablet).status_code == 200
    assert client.get(f"/api/v1/notes/{note_a.id}", headers=tablet).status_code == 200


def test_a_tablet_lists_its_own_stores_requests_and_notes_only(client, world, two_stores):
    customer, request_a, request_b, note_a, note_b = two_stores
    tablet = world.tablet_a.headers
    assert listed_ids(client, "/api/v1/requests", tablet) == {str(request_a.id)}
    assert listed_ids(client, "/api/v1/requests", tablet, customer_id=str(customer.id)) \
        == {str(request_a.id)}
    assert listed_ids(client, "/api/v1/notes", tablet) == {str(note_a.id)}
    assert listed_ids(client, "/api/v1/notes", tablet, customer_id=str(customer.id)) \
        == {str(note_a.id)}
    admin = world.headers("admin")
    assert listed_ids(client, "/api/v1/requests", admin) == {str(request_a.id),
                                                             str(request_b.id)}
    assert listed_ids(client, "/api/v1/notes", admin) == {str(note_a.id), str(note_b.id)}


def test_a_tablet_may_not_ask_for_another_stores_list(client, world, two_stores):
    _, request_a, *_ = two_stores
    tablet = world.tablet_a.headers
    response = client.get("/api/v1/requests", headers=tablet,
                          query_string={"store_id": str(world.store_b.id)})
    assert_problem(response, 403, "forbidden")
    assert listed_ids(client, "/api/v1/requests", tablet, store_id=str(world.store_a.id)) \
        == {str(request_a.id)}


def test_a_tablet_may_not_capture_a_request_for_another_store(client, session, world,
                                                              two_stores):
    customer, *_ = two_stores
    before = change_count(session)
    response = client.post("/api/v1/requests", headers=world.tablet_a.headers,
                           json={"customer_id": str(customer.id), "type": "hold",
                                 "store_id": str(world.store_b.id), "description": "Coat"})
    assert_problem(response, 403, "forbidden")
    assert change_count(session) == before
    assert "Coat" not in {item["description"] for item in client.get(
        "/api/v1/requests", headers=world.headers("admin")).json["items"]}


def test_a_tablet_sees_its_own_store_only(client, world):
    tablet = world.tablet_a.headers
    assert listed_ids(client, "/api/v1/stores", tablet) == {str(world.store_a.id)}
    assert_problem(client.get(f"/api/v1/stores/{world.store_b.id}", headers=tablet),
                   404, "not_found")
    assert listed_ids(client, "/api/v1/stores", world.headers("crm")) == {
        str(world.store_a.id), str(world.store_b.id)}


def test_the_crm_never_sees_a_sensitive_note(client, session, world):
    customer = make_customer(session, world.tablet_a.actor)
    sensitive = make_note(session, world.tablet_a.actor, customer,
                          body="She is pregnant, due in May")
    plain = make_note(session, world.tablet_a.actor, customer, body="Prefers a call after 5pm")
    assert sensitive.sensitive and not plain.sensitive

    crm = world.headers("crm")
    assert_problem(client.get(f"/api/v1/notes/{sensitive.id}", headers=crm), 404, "not_found")
    assert client.get(f"/api/v1/notes/{plain.id}", headers=crm).status_code == 200
    assert listed_ids(client, "/api/v1/notes", crm) == {str(plain.id)}
    assert listed_ids(client, "/api/v1/notes", crm, customer_id=str(customer.id)) \
        == {str(plain.id)}
    # The store that wrote it, and admins, do see it.
    for headers in (world.tablet_a.headers, world.headers("admin")):
        response = client.get(f"/api/v1/notes/{sensitive.id}", headers=headers)
        assert response.status_code == 200
        assert response.json["body"] == "She is pregnant, due in May"
        assert listed_ids(client, "/api/v1/notes", headers) == {str(sensitive.id),
                                                                str(plain.id)}


def test_a_note_edited_into_sensitive_text_disappears_from_the_crm(client, session, world):
    customer = make_customer(session, world.tablet_a.actor)
    note = make_note(session, world.tablet_a.actor, customer, body="Prefers a call after 5pm")
    crm = world.headers("crm")
    assert listed_ids(client, "/api/v1/notes", crm) == {str(note.id)}
    edited = client.patch(f"/api/v1/notes/{note.id}", headers=world.tablet_a.headers,
                          json={"body": "Expecting a baby in May"})
    assert edited.status_code == 200 and edited.json["sensitive"] is True
    assert listed_ids(client, "/api/v1/notes", crm) == set()
    assert_problem(client.get(f"/api/v1/notes/{note.id}", headers=crm), 404, "not_found")
