"""Logging the reads of a page: one access-log entry naming each customer once, with
the reader's key; a read of one customer names them alone (`customer_id`).

A device's pull and the CRM feed read ids as text (PostgreSQL takes them as the text
of one uuid[]); other reads pass UUIDs. Either way the entry is the same, and a
customer finds it in their access log and export, never the others it names.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from server.audit import access_log
from server.audit.models import AccessEntry
from tests.factories import make_customer
from tests.sync.helpers import pull_all


def entries(session, what: str) -> list[AccessEntry]:
    found = list(session.execute(sa.select(AccessEntry).where(AccessEntry.what == what))
                 .scalars())
    session.close()
    return found


def test_one_entry_naming_each_distinct_customer_with_the_readers_key(session, world):
    actor = world.tablet_a.actor
    people = [make_customer(session, actor).id for _ in range(3)]
    # Text and UUIDs, repeated, and a record that belongs to no customer (None).
    ids = [str(people[0]), people[0], str(people[1]), people[2], str(people[2]), None]
    access_log.read(session, actor, "read", "page read", ids)
    [entry] = entries(session, "page read")
    assert entry.customer_id is None and sorted(entry.customers) == sorted(people)
    assert (entry.action, entry.scope, entry.key_id, entry.store_id, entry.device_id) == (
        "read", "tablet", actor.key_id, actor.store_id, actor.device_id)
    assert entry.at.tzinfo is not None
    # A time-ordered id (version 7), made at the entry's time.
    assert entry.id.version == 7 and entry.id.variant == uuid.RFC_4122
    assert entry.id.int >> 80 == int(entry.at.timestamp() * 1000)


def test_a_read_of_one_customer_names_them_alone(session, world):
    actor = world.tablet_a.actor
    ada = make_customer(session, actor).id
    access_log.read(session, actor, "read", "page read", [str(ada), ada, None])
    [entry] = entries(session, "page read")
    assert (entry.customer_id, entry.customer_ids, entry.customers) == (ada, None, [ada])


def test_nothing_read_nothing_logged(session, world):
    access_log.read(session, world.tablet_a.actor, "read", "page read", [None])
    access_log.read(session, world.tablet_a.actor, "read", "page read", [])
    assert entries(session, "page read") == []


def test_a_pull_logs_each_customer_of_the_page_once(client, session, world):
    actor = world.tablet_a.actor
    people = [make_customer(session, actor).id for _ in range(25)]
    pull_all(client, world.tablet_a)
    [entry] = entries(session, "sync pull")
    assert sorted(entry.customers) == sorted(people)
    assert (entry.action, entry.scope, entry.key_id, entry.store_id, entry.device_id) == (
        "read", "tablet", actor.key_id, actor.store_id, actor.device_id)


def test_each_customer_finds_the_entry_and_never_the_others_it_names(client, session, world):
    actor = world.tablet_a.actor
    people = [make_customer(session, actor).id for _ in range(4)]
    outsider = make_customer(session, actor).id
    access_log.read(session, actor, "search", "page read", people[:3])
    access_log.read(session, actor, "read", "page read", [people[3]])
    admin = world.headers("admin")
    for person in people + [outsider]:
        found = session.scalars(sa.select(AccessEntry.what).where(
            access_log.naming(session, person), AccessEntry.what == "page read")).all()
        assert len(found) == (0 if person == outsider else 1)
        items = client.get(f"/api/v1/customers/{person}/access-log",
                           headers=admin).json["items"]
        assert [(i["customer_id"], i["action"]) for i in items if i["what"] == "page read"] == (
            [] if person == outsider else
            [(str(person), "search" if person in people[:3] else "read")])
        export = client.get(f"/api/v1/customers/{person}/export", headers=admin).json
        shown = [e for e in export["sections"]["who_accessed"] if e["what"] == "page read"]
        assert [e["customer_id"] for e in shown] == (
            [] if person == outsider else [str(person)])
        others = {str(p) for p in people + [outsider]} - {str(person)}
        assert not any(other in str(shown) for other in others)
