"""What a push asks the database, and what it logs, when most of it is new records."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from server.audit.models import AccessEntry
from server.core import driver, lookups
from server.extensions import db
from tests.factories import make_customer, make_request
from tests.sync.helpers import mutation, new_request, push


@pytest.fixture
def selects(app, monkeypatch):
    """The SELECT statements run while the test pushes: through SQLAlchemy, or on the
    driver's cursor (core.driver, PostgreSQL)."""
    seen: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    fetch_all = driver.fetch_all

    def fetch_noted(connection, statement, *args, **kwargs):
        note(None, None, driver.compiled(statement, connection.dialect)[0], None, None, False)
        return fetch_all(connection, statement, *args, **kwargs)

    monkeypatch.setattr(driver, "fetch_all", fetch_noted)
    sa.event.listen(db.engine, "before_cursor_execute", note)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", note)


def change_entries(session, customer_id) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(AccessEntry).where(
        AccessEntry.customer_id == customer_id, AccessEntry.action == "change"))


def test_a_push_of_new_requests_reads_in_four_queries(client, world, session, selects):
    customer = make_customer(session, world.tablet_a.actor)
    # The customer enters the store; the COPY's column types are read once a process.
    push(client, world.tablet_a, [new_request(customer.id) for _ in range(20)])
    selects.clear()
    results = push(client, world.tablet_a, [new_request(customer.id) for _ in range(20)])
    assert {r["status"] for r in results} == {"applied"}
    # the key, which ids exist, the customers with their store scope, and subscriptions;
    # whether a customer was merged meanwhile rides on the change counter's UPDATE
    assert len(selects) == 4, selects


def test_a_known_mutation_or_record_is_found_among_new_ones(client, world, session):
    customer = make_customer(session, world.tablet_a.actor)
    existing = make_request(session, world.tablet_a.actor, customer)
    first = new_request(customer.id)
    push(client, world.tablet_a, [first])
    again = new_request(customer.id) | {"id": str(existing.id)}
    results = push(client, world.tablet_a, [new_request(customer.id), first, again])
    assert [r["status"] for r in results] == ["applied", "duplicate", "rejected"]


def test_one_access_log_entry_per_customer_and_push(client, world, session):
    ada, bea = (make_customer(session, world.tablet_a.actor) for _ in range(2))
    record = make_request(session, world.tablet_a.actor, ada)
    batch = [new_request(ada.id), new_request(bea.id),
             mutation("request", record.id, {"size": "40"}, base_version=1),
             new_request(ada.id), new_request(bea.id)]
    results = push(client, world.tablet_a, batch)
    assert {r["status"] for r in results} == {"applied"}
    assert (change_entries(session, ada.id), change_entries(session, bea.id)) == (1, 1)


def test_a_group_replayed_after_a_clash_logs_each_customer_once(client, world, session,
                                                                 monkeypatch):
    """The batch's lookups miss a record that exists (as if written concurrently): the
    group's insert fails, is rolled back with its access-log rows, and replayed."""
    customer = make_customer(session, world.tablet_a.actor)
    existing = make_request(session, world.tablet_a.actor, customer)
    push(client, world.tablet_a, [new_request(customer.id)])
    before = change_entries(session, customer.id)
    real = lookups.prefetch_existing

    def blind(session, wanted):
        real(session, wanted)
        lookups.remember(session, type(existing), [existing.id], [])  # "absent"

    monkeypatch.setattr(lookups, "prefetch_existing", blind)
    clash = new_request(customer.id) | {"id": str(existing.id)}
    results = push(client, world.tablet_a, [new_request(customer.id), clash,
                                            new_request(customer.id)])
    assert [r["status"] for r in results] == ["applied", "rejected", "applied"]
    assert change_entries(session, customer.id) == before + 1
    assert uuid.UUID(results[0]["id"]) != existing.id
