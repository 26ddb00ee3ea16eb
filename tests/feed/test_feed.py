"""The CRM feed: every store, commit order, the cursor guarantee, and the CRM's reduced view."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import sqlalchemy as sa

from server.audit import access_log
from server.changelog import retention
from server.changelog.models import Change
from server.core import problems
from server.core.actor import Actor
from server.customer_requests import service as requests_service
from server.customers import service as customers_service
from server.extensions import db
from server.feed import service as feeding
from server.notes import service as notes_service
from server.stores import keys
from tests.concurrency import capture_request, request_versions, writers_and_a_reader
from tests.factories import (
    make_customer,
    make_note,
    make_notice,
    make_request,
    record_consent,
)
from tests.sync.helpers import new_request, push

FEED = "/api/v1/feed"


def read_all(client, world, cursor=None, limit=500):
    changes = []
    for _ in range(1000):
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = client.get(FEED, query_string=query, headers=world.headers("crm"))
        assert response.status_code == 200, response.get_data(as_text=True)
        changes += response.json["changes"]
        cursor = response.json["next_cursor"]
        if not response.json["has_more"]:
            return changes, cursor
    raise AssertionError("the feed never ended")


def only(changes, entity):
    return [c for c in changes if c["entity"] == entity]


def test_every_store_once_in_commit_order(client, session, world):
    ada = make_customer(session, world.tablet_a.actor, given_name="Ada")
    bea = make_customer(session, world.tablet_b.actor, given_name="Bea")
    make_request(session, world.tablet_a.actor, ada)
    make_request(session, world.tablet_b.actor, ada)  # Ada is now held by both stores
    changes, _ = read_all(client, world)
    assert [c["id"] for c in only(changes, "customer")] == [str(ada.id), str(bea.id)]
    assert len(only(changes, "request")) == 2
    assert {c["record"]["store_id"] for c in only(changes, "request")} == {
        str(world.store_a.id), str(world.store_b.id)}


def test_contact_points_only_where_some_purpose_allows_contact(client, session, world):
    ada = make_customer(session, world.tablet_a.actor, email="ada@example.com",
                        phone="+447911123456",
                        postal_address={"lines": ["1 High St"], "city": "Leeds",
                                        "country": "GB"})
    changes, cursor = read_all(client, world)
    [customer] = only(changes, "customer")
    assert (customer["record"]["email"], customer["record"]["phone"],
            customer["record"]["postal_address"]) == (None, None, None)
    assert customer["record"]["given_name"] == "Ada"
    # A request that chose texts makes the number needed; a grant by email the address.
    make_request(session, world.tablet_a.actor, ada, notify_channels=["sms"])
    record_consent(session, world.tablet_a.actor, ada, "marketing", "email",
                   notice=make_notice(session))
    changes, cursor = read_all(client, world, cursor)
    customer = only(changes, "customer")[-1]["record"]
    assert (customer["email"], customer["phone"], customer["postal_address"]) == (
        "ada@example.com", "+447911123456", None)
    # Withdrawn by email: the CRM gets the state and the customer without the address.
    record_consent(session, world.tablet_a.actor, ada, "marketing", "email", "withdraw")
    changes, _ = read_all(client, world, cursor)
    assert [c["entity"] for c in changes] == ["consent_state", "customer"]
    assert changes[1]["record"]["email"] is None
    assert changes[1]["record"]["phone"] == "+447911123456"


def test_consent_arrives_as_the_current_state_with_the_notice(client, session, world):
    ada = make_customer(session, world.tablet_a.actor)
    notice = make_notice(session, purposes=("marketing.newsletter",), channels=("email",))
    record_consent(session, world.tablet_a.actor, ada, "marketing.newsletter", "email",
                   notice=notice)
    record_consent(session, world.tablet_b.actor, ada, "research", "all", "deny")
    changes, _ = read_all(client, world)
    [state] = only(changes, "consent_state")
    assert state["id"] == str(ada.id) and state["version"] == 2
    assert [(s["purpose"], s["channel"], s["status"], s["live"]) for s in
            state["record"]["state"]] == [("marketing.newsletter", "email", "grant", True),
                                          ("research", "all", "deny", False)]
    assert state["record"]["state"][0]["notice"] == {
        "id": str(notice.id), "key": notice.key, "language": "en", "number": 1}


def test_sensitive_notes_never_reach_the_crm(client, session, world):
    ada = make_customer(session, world.tablet_a.actor)
    plain = make_note(session, world.tablet_a.actor, ada, body="Likes navy")
    changes, cursor = read_all(client, world)
    assert [(c["id"], c["op"]) for c in only(changes, "note")] == [(str(plain.id), "upsert")]
    # Edited into something sensitive: the CRM is told to drop it, and never sees the text.
    notes_service.update(session, world.tablet_a.actor, plain.id,
                         "She is pregnant, wants maternity sizes")
    secret = make_note(session, world.tablet_a.actor, ada, body="Recovering from surgery")
    session.commit()
    changes, _ = read_all(client, world, cursor)
    assert [(c["id"], c["op"], c.get("reason")) for c in changes] == [
        (str(plain.id), "delete", "withheld"), (str(secret.id), "delete", "withheld")]
    assert "pregnant" not in str(changes) and "surgery" not in str(changes)


def test_requests_carry_their_status_history(client, session, world):
    ada = make_customer(session, world.tablet_a.actor)
    request = make_request(session, world.tablet_a.actor, ada)
    requests_service.transition(session, world.tablet_a.actor, request.id, "in_progress", None,
                                "A-117")
    session.commit()
    changes, _ = read_all(client, world)
    [change] = only(changes, "request")
    assert [(h["from_status"], h["to_status"], h["changed_by"])
            for h in change["record"]["history"]] == [(None, "open", None),
                                                       ("open", "in_progress", "A-117")]
    assert change["version"] == 2


def test_a_history_written_at_commit_reads_as_one_read_from_the_steps(client, session, world):
    """Requests made every way (the API, a push's bulk path, transitions with a reason and
    a name to escape): the history logged with each change is the one the feed reads from
    the steps for changes logged before the column existed."""
    ada, bea = (make_customer(session, world.tablet_a.actor) for _ in range(2))
    first = make_request(session, world.tablet_a.actor, ada)
    requests_service.transition(session, world.tablet_a.actor, first.id, "in_progress",
                                None, "A-117")
    requests_service.transition(session, world.tablet_a.actor, first.id, "cancelled",
                                "not_available", "Zoë \"Z\" O'Neil")
    session.commit()
    make_request(session, world.tablet_b.actor, bea, notify_channels=["sms"])
    push(client, world.tablet_a, [new_request(ada.id) for _ in range(3)])
    logged, _ = read_all(client, world)
    assert session.scalar(sa.select(sa.func.count()).where(
        Change.entity == "request", Change.history.is_(None))) == 0
    session.execute(sa.update(Change).values(history=None))
    session.commit()
    read, _ = read_all(client, world)
    assert len(only(logged, "request")) == 5
    assert only(logged, "request") == only(read, "request")


def test_each_record_once_at_its_latest_version_and_tombstones_after(client, session, world):
    ada = make_customer(session, world.tablet_a.actor)
    note = make_note(session, world.tablet_a.actor, ada)
    _, cursor = read_all(client, world)
    for n in range(3):
        customers_service.update(session, world.tablet_a.actor, ada.id, {"family_name": f"V{n}"})
        session.commit()
    notes_service.delete(session, world.tablet_a.actor, note.id)
    session.commit()
    changes, _ = read_all(client, world, cursor)
    assert [(c["entity"], c["op"], c["version"]) for c in changes] == [
        ("customer", "upsert", 4), ("note", "delete", 2)]


def test_a_page_with_more_names_the_next_in_a_link_header(client, session, world):
    """The next page's address comes before the body (a client reads ahead with it):
    the same cursor as the body's and the same limit; the last page names none."""
    for _ in range(5):
        make_customer(session, world.tablet_a.actor)
    crm, query, seen = world.headers("crm"), {"limit": 2}, 0
    while True:
        response = client.get(FEED, query_string=query, headers=crm)
        seen += len(response.json["changes"])
        if not response.json["has_more"]:
            assert "Link" not in response.headers
            break
        url = response.headers["Link"].removeprefix("<").split(">;")[0]
        assert response.headers["Link"].endswith('>; rel="next"')
        path, _, params = url.partition("?")
        assert path == FEED and parse_qs(params) == {
            "cursor": [response.json["next_cursor"]], "limit": ["2"]}
        query = {k: v[0] for k, v in parse_qs(params).items()}
    assert seen == 5


def test_a_page_whose_read_is_not_logged_hands_over_no_change(session, world, monkeypatch):
    """The page's opening may leave first (its headers, for a client reading ahead), but
    not one change of it unless its read was logged."""
    make_customer(session, world.tablet_a.actor, given_name="Ada")

    def log_down(*args, **kwargs):
        raise RuntimeError("the access log cannot be written")

    monkeypatch.setattr(access_log, "read_on", log_down)
    page = feeding.feed(session, Actor("crm", label="tests"), None, 100, log=True)
    assert not page.empty and page.has_more is False
    chunks = page.chunks()
    assert next(chunks) == b'{"changes":['
    with pytest.raises(RuntimeError):
        next(chunks)


def test_paging_304_foreign_cursors_and_410(client, session, world):
    for _ in range(5):
        make_customer(session, world.tablet_a.actor)
    changes, cursor = read_all(client, world, limit=2)
    assert len(only(changes, "customer")) == 5
    response = client.get(FEED, query_string={"cursor": cursor}, headers=world.headers("crm"))
    etag = response.headers["ETag"]
    again = client.get(FEED, query_string={"cursor": cursor},
                       headers=world.headers("crm") | {"If-None-Match": etag})
    assert again.status_code == 304
    assert client.get(FEED, query_string={"cursor": "nonsense"},
                      headers=world.headers("crm")).status_code == 422
    note = make_note(session, world.tablet_a.actor, make_customer(session,
                                                                  world.tablet_a.actor))
    notes_service.delete(session, world.tablet_a.actor, note.id)
    session.commit()
    retention.prune(session, timedelta(0))
    session.commit()
    gone = client.get(FEED, query_string={"cursor": cursor}, headers=world.headers("crm"))
    assert gone.status_code == 410 and gone.json["code"] == "cursor_expired"


@pytest.mark.parametrize("scope", ["tablet", "channel", "admin"])
def test_only_the_crm_reads_the_feed(client, world, scope):
    assert client.get(FEED, headers=world.headers(scope)).status_code == 403


def test_a_reader_that_keeps_reading_never_misses_a_concurrent_commit(app, session, world):
    """Writers in two stores commit in whatever order; the CRM reads all along. At the end
    it has seen every request exactly at its final version, and every customer."""
    with app.app_context():
        crm = keys.authenticate(db.session, world.tokens["crm"])
    stores = [world.tablet_a.actor.store_id, world.tablet_b.actor.store_id]
    seen: dict[str, int] = {}
    customers_seen: set[str] = set()

    def write(n: int, i: int, rng) -> None:
        actor = Actor(scope="tablet", store_id=stores[n % 2], label=f"w{n}")
        person = customers_service.create(db.session, actor, {
            "given_name": f"W{n}", "family_name": str(i)})
        capture_request(actor, person.id, n, i, rng)

    def read_page(cursor):
        page = feeding.feed(db.session, crm, cursor, 4)
        for change in page.changes:
            if change["entity"] == "request":
                seen[change["id"]] = change["version"]
            elif change["entity"] == "customer":
                customers_seen.add(change["id"])
        return page.next_cursor, page.has_more

    writers_and_a_reader(app, writers=4, per_writer=25, write=write, read_page=read_page)
    final = request_versions(app)
    with app.app_context():
        people = set(db.session.scalars(db.select(customers_service.Customer.id)))
    assert len(final) == 4 * 25
    assert seen == final
    assert customers_seen == {str(p) for p in people}


def test_a_streamed_answer_that_fails_is_cut_off_and_logged_without_its_message(caplog):
    """Once an answer's headers have left, Flask's error handlers are behind it: the
    failure is still logged by type and place only (a message can echo personal data)."""
    def body(email):
        yield b'{"changes":['
        raise ValueError(f"{email} is not a valid thing")  # the data in the message only

    chunks = problems.guarded(body("ada@example.com"))
    assert next(chunks) == b'{"changes":['
    with pytest.raises(problems.AnswerCut) as cut:
        next(chunks)
    assert cut.value.__suppress_context__ and "ada@" not in str(cut.value)
    assert "unhandled ValueError" in caplog.text and "ada@example.com" not in caplog.text
