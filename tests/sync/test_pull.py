"""Pull: snapshot then changes, scope, tombstones, ETags, and the cursor guarantee."""


import pytest
from sqlalchemy.dialects import postgresql

from server.core import driver
from server.core.actor import Actor
from server.customers import service as customers_service
from server.extensions import db
from server.feed import service as feeding
from server.sync import pull as pulling
from tests.concurrency import capture_request, request_versions, writers_and_a_reader
from tests.factories import make_customer, make_note, make_request, make_tablet
from tests.sync.helpers import mutation, new_customer, new_request, pull_all, push


def ids(changes, entity=None, op="upsert"):
    return {c["id"] for c in changes if (entity is None or c["entity"] == entity)
            and c["op"] == op}


def test_snapshot_holds_the_stores_records_and_nothing_from_another_store(client, world,
                                                                          session):
    ours = make_customer(session, world.tablet_a.actor)
    request_a = make_request(session, world.tablet_a.actor, ours)
    theirs = make_customer(session, world.tablet_b.actor)
    request_b = make_request(session, world.tablet_b.actor, theirs)
    changes, _ = pull_all(client, world.tablet_a)
    assert ids(changes, "customer") == {str(ours.id)}
    assert ids(changes, "request") == {str(request_a.id)}
    assert str(request_b.id) not in ids(changes) | ids(changes, op="delete")
    assert len(changes) == len({(c["entity"], c["id"]) for c in changes})  # each once


def test_changes_after_the_cursor_in_order_with_tombstones(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    note = make_note(session, world.tablet_a.actor, customer)
    _, cursor = pull_all(client, world.tablet_a)
    record = make_request(session, world.tablet_a.actor, customer)
    client.delete(f"/api/v1/notes/{note.id}", headers=world.tablet_a.headers)
    changes, _ = pull_all(client, world.tablet_a, cursor)
    assert [(c["entity"], c["op"]) for c in changes] == [("request", "upsert"),
                                                          ("note", "delete")]
    assert changes[0]["id"] == str(record.id)
    assert changes[1]["id"] == str(note.id) and changes[1]["reason"] == "deleted"


def test_a_fresh_device_gets_no_tombstones(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    note = make_note(session, world.tablet_a.actor, customer)
    client.delete(f"/api/v1/notes/{note.id}", headers=world.tablet_a.headers)
    fresh = make_tablet(session, world.store_a)
    session.commit()
    changes, _ = pull_all(client, fresh, limit=1)
    assert [c["op"] for c in changes] == ["upsert"]


def test_a_customer_enters_scope_when_another_store_captures_for_them(client, world,
                                                                      session):
    customer = make_customer(session, world.tablet_a.actor)
    _, cursor_b = pull_all(client, world.tablet_b)
    make_request(session, world.tablet_b.actor, customer)
    changes, _ = pull_all(client, world.tablet_b, cursor_b)
    assert str(customer.id) in ids(changes, "customer")


def test_each_record_once_at_its_latest_version(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    _, cursor = pull_all(client, world.tablet_a)
    for name in ("B", "C", "D"):
        customers_service.update(session, world.tablet_a.actor, customer.id,
                                 {"given_name": name})
        session.commit()
    changes, _ = pull_all(client, world.tablet_a, cursor)
    assert [(c["record"]["given_name"], c["version"]) for c in changes] == [("D", 4)]


def test_paging_walks_everything_once(client, world):
    batch = [new_customer(given_name=f"C{i}") for i in range(25)]
    push(client, world.tablet_a, batch)
    changes, _ = pull_all(client, world.tablet_a, limit=4)
    assert ids(changes, "customer") == {m["id"] for m in batch}
    assert len(changes) == 25


def test_if_none_match_is_304_when_nothing_changed(client, world, session):
    make_customer(session, world.tablet_a.actor)
    first = client.get("/api/v1/sync/pull", headers=world.tablet_a.headers)
    cursor, etag = first.json["next_cursor"], first.headers["ETag"]
    again = client.get("/api/v1/sync/pull", query_string={"cursor": cursor},
                       headers=world.tablet_a.headers | {"If-None-Match": etag})
    assert again.status_code == 304
    make_customer(session, world.tablet_a.actor)
    changed = client.get("/api/v1/sync/pull", query_string={"cursor": cursor},
                         headers=world.tablet_a.headers | {"If-None-Match": etag})
    assert changed.status_code == 200 and len(changed.json["changes"]) == 1


@pytest.mark.parametrize("cursor", ["garbage", "YmIxOjE=", "YmIxOi0xOjA", "x" * 100])
def test_a_foreign_cursor_is_refused_clearly(client, world, cursor):
    response = client.get("/api/v1/sync/pull", query_string={"cursor": cursor},
                          headers=world.tablet_a.headers)
    assert response.status_code == 422
    assert "cursor" in response.json["errors"]["query"]


def test_only_tablets_sync(client, world):
    for scope in ("crm", "channel", "admin"):
        response = client.get("/api/v1/sync/pull", headers=world.headers(scope))
        assert response.status_code == 403


def test_pushed_records_come_back_on_pull_at_their_version(client, world):
    customer = new_customer()
    request = new_request(customer["id"])
    results = push(client, world.tablet_a, [customer, request])
    changes, cursor = pull_all(client, world.tablet_a)
    versions = {c["id"]: c["version"] for c in changes}
    assert versions == {r["id"]: r["version"] for r in results}
    edit = mutation("request", request["id"], {"size": "40"}, base_version=1)
    push(client, world.tablet_a, [edit])
    changes, _ = pull_all(client, world.tablet_a, cursor)
    assert [(c["id"], c["version"]) for c in changes] == [(request["id"], 2)]


def test_a_reader_that_keeps_pulling_never_misses_a_concurrent_commit(app, world):
    """Several writers commit in whatever order; a reader pulls all along. At the end
    the reader has seen every record, at its final version."""
    tablet = world.tablet_a.actor
    with app.app_context():
        seed = customers_service.create(db.session, tablet, {"given_name": "Seed"})
        db.session.commit()
        seed_id = seed.id
    seen: dict[str, int] = {}

    def write(n: int, i: int, rng) -> None:
        capture_request(Actor(scope="tablet", store_id=tablet.store_id, label=f"w{n}"),
                        seed_id, n, i, rng)

    def read_page(cursor):
        page = pulling.pull(db.session, tablet, cursor, 3)
        for change in page.changes:
            if change.entity == "request":
                seen[change.id] = change.version
        return page.next_cursor, page.has_more

    writers_and_a_reader(app, writers=4, per_writer=30, write=write, read_page=read_page)
    final = request_versions(app)
    assert len(final) == 4 * 30
    assert seen == final


@pytest.mark.parametrize("stream, given", [
    (pulling._store_stream, {"after", "snapshot_end", "limit", "store_id"}),
    (feeding._stream, {"after", "snapshot_end", "limit", "now"}),
])
def test_a_streams_query_takes_only_the_readers_parameters(stream, given):
    """On PostgreSQL a page is read on the driver's cursor with the reader's parameters
    only (core.driver): a parameter SQLAlchemy made of a constant would be missing."""
    text, names = driver.compiled(stream(), postgresql.psycopg.dialect())
    assert names == given
    assert "'delete'" in text
